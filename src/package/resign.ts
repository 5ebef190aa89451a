// sign: re-sign an existing package (ours or WAPT-made) with another key (W-E4).
// The payload is streamed from the old zip into the new one; its hashes must
// match the old manifest, or the package was altered and we refuse (unless forced).
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { WaptError } from '../errors.js';
import { keyMatchesCertificate } from '../crypto/index.js';
import type { ControlFields } from './control.js';
import { signControl } from './control-signature.js';
import { CERTIFICATE_MEMBER, CONTROL_MEMBER, compareManifest, MANIFEST_EXCLUDED, setupKindOf } from './manifest.js';
import { checkCodeSigningRule, readSignedParts } from './verify.js';
import { writeSignedZip, type Signer } from './build.js';
import { PackageZip } from './zip-reader.js';

export interface ResignOptions {
  signer: Signer;
  date: Date;
  reproducible: boolean;
  /** Write here instead of replacing the file in place. */
  outDir?: string;
  /** Sign even though the content no longer matches its manifest. */
  force: boolean;
  onWarning?: (msg: string) => void;
}

export interface ResignResult {
  path: string;
  control: ControlFields;
  forced: boolean;
}

const REGENERATED = new Set([CONTROL_MEMBER, CERTIFICATE_MEMBER, ...MANIFEST_EXCLUDED]);

export async function resignPackage(path: string, opts: ResignOptions): Promise<ResignResult> {
  const source = basename(path);
  const [signerCert] = opts.signer.certificates;
  if (!signerCert) throw new WaptError('CERT_INVALID', 'no signer certificate given');
  if (!keyMatchesCertificate(opts.signer.key, signerCert)) {
    throw new WaptError('KEY_CERT_MISMATCH', 'the private key does not belong to the signer certificate');
  }
  const zip = await PackageZip.open(path);
  let forced = false;
  let signed: ControlFields;
  const dest = join(opts.outDir ?? join(path, '..'), source);
  try {
    const parts = await readSignedParts(zip, source);
    const actual = await zip.hashAllMembers();
    const diff = compareManifest(parts.manifest, actual);
    const altered = [...diff.modified, ...diff.missing, ...diff.extra];
    if (altered.length > 0) {
      if (!opts.force) {
        throw new WaptError(
          'MANIFEST_MISMATCH',
          `${source}: content no longer matches its manifest (${altered.join(', ')}); refusing to sign it (--force overrides)`,
          {
            detail: { file: source, ...diff },
          },
        );
      }
      forced = true;
      opts.onWarning?.(`${source}: SIGNING ALTERED CONTENT because of --force (${altered.join(', ')})`);
    }
    const payload = zip.members.filter((m) => !m.isDirectory && !REGENERATED.has(m.name));
    checkCodeSigningRule(setupKindOf(payload.map((m) => m.name)), signerCert, source); // W-D5
    signed = signControl(parts.control, { key: opts.signer.key, cert: signerCert, date: opts.date, reproducible: opts.reproducible });
    await writeSignedZip(dest, signed, opts, async (zb) => {
      const pairs: [string, string][] = [];
      for (const m of payload) {
        const stream = await zip.openMemberStream(m.name);
        pairs.push([m.name, await zb.addStream(m.name, stream, m.compressedSize !== m.uncompressedSize ? undefined : false)]);
      }
      return pairs;
    });
  } catch (err) {
    if (dest !== path) await rm(`${dest}.tmp-${process.pid}`, { force: true });
    throw err;
  } finally {
    await zip.close();
  }
  return { path: dest, control: signed, forced };
}
