// build-package: a source directory with WAPT/control becomes a signed .wapt
// (W-A1, W-A1b, W-D1, W-D2, W-E1, W-E4). With SOURCE_DATE_EPOCH the output is
// byte-for-byte reproducible.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { WaptError } from '../errors.js';
import { certificateToPem, keyMatchesCertificate, mimeBase64, signSha256 } from '../crypto/index.js';
import { parseControl, serializeControl, validateControl, type ControlFields } from './control.js';
import { signControl } from './control-signature.js';
import { packageFilename } from './filename.js';
import { CERTIFICATE_MEMBER, CONTROL_MEMBER, MANIFEST_EXCLUDED, MANIFEST_MEMBER, setupKindOf, SIGNATURE_MEMBER } from './manifest.js';
import { manifestJson } from './pyjson.js';
import { checkCodeSigningRule } from './verify.js';
import { checkInstallerPackage } from './msi/index.js';
import { ZipBuilder } from './zip-builder.js';

/** Source-tree noise WAPT also leaves out of packages. */
const IGNORED_NAMES = new Set(['.git', '.svn', '.hg', '.gitignore', '__pycache__', '.DS_Store']);
const GENERATED_MEMBERS = new Set([CONTROL_MEMBER, CERTIFICATE_MEMBER, ...MANIFEST_EXCLUDED]);

export interface Signer {
  key: KeyObject;
  /** Signer first, then any intermediates to ship in WAPT/certificate.crt (W-A1). */
  certificates: X509Certificate[];
}

export interface BuildOptions {
  signer: Signer;
  outDir: string;
  /** Signing time; pass SOURCE_DATE_EPOCH's date with reproducible=true. */
  date: Date;
  reproducible: boolean;
}

export interface BuildResult {
  path: string;
  control: ControlFields;
  files: number;
}

/** Payload files, sorted so the zip is deterministic; symlinks refused (they could point anywhere). */
export async function listPayload(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (IGNORED_NAMES.has(e.name) || e.name.endsWith('.pyc')) continue;
    const relPath = rel ? `${rel}/${e.name}` : e.name;
    if (e.isSymbolicLink()) {
      throw new WaptError('ZIP_SYMLINK', `${relPath} is a symbolic link; packages may only hold regular files`, { detail: { path: relPath } });
    }
    if (e.isDirectory()) out.push(...(await listPayload(dir, relPath)));
    else if (e.isFile() && !GENERATED_MEMBERS.has(relPath)) out.push(relPath);
  }
  return out;
}

/** W-C1: values with empty or whitespace-led continuation lines would not round-trip (line breaks: validateControl). */
function assertRoundTrips(control: ControlFields): void {
  for (const [key, value] of control) {
    const lines = value.split('\n');
    if (lines.slice(1).some((l) => l.trim() === '' || /^\s/.test(l))) {
      throw new WaptError('CONTROL_INVALID', `field ${key}: continuation lines may not be empty or start with whitespace (W-C1)`, {
        detail: { field: key },
      });
    }
  }
}

export async function readSourceControl(dir: string): Promise<ControlFields> {
  const path = join(dir, CONTROL_MEMBER);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new WaptError('CONTROL_PARSE', `${path}: cannot read the control file`, { cause: err });
  }
  // W-C1: parsing stops at the first blank line (index entries are split that way);
  // in a source control anything after one would be dropped silently, so refuse it.
  const lines = text.split(/\r?\n/);
  const blank = lines.findIndex((l) => l.trim() === '');
  if (blank >= 0 && lines.slice(blank + 1).some((l) => l.trim() !== '')) {
    throw new WaptError(
      'CONTROL_INVALID',
      `${path} line ${blank + 1}: a blank line ends the control, but more lines follow (continuation lines may not be empty)`,
      {
        detail: { file: path, line: blank + 1 },
      },
    );
  }
  const control = parseControl(text, { source: path });
  validateControl(control);
  assertRoundTrips(control);
  return control;
}

export async function buildPackage(dir: string, opts: BuildOptions): Promise<BuildResult> {
  const info = await lstat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new WaptError('IO_ERROR', `${dir} is not a directory`);
  const [signerCert] = opts.signer.certificates;
  if (!signerCert) throw new WaptError('CERT_INVALID', 'no signer certificate given');
  if (!keyMatchesCertificate(opts.signer.key, signerCert)) {
    throw new WaptError('KEY_CERT_MISMATCH', 'the private key does not belong to the signer certificate');
  }
  const control = await readSourceControl(dir);
  const payload = await listPayload(dir);
  checkCodeSigningRule(setupKindOf(payload), signerCert, dir); // W-D5: refuse before any work
  await checkInstallerPackage(dir, payload); // an msi/exe package ships its installer (and ProductCode)
  const signed = signControl(control, { key: opts.signer.key, cert: signerCert, date: opts.date, reproducible: opts.reproducible });
  await mkdir(opts.outDir, { recursive: true });
  const dest = join(opts.outDir, packageFilename(signed));
  await writeSignedZip(dest, signed, opts, async (zb) => {
    const pairs: [string, string][] = [];
    for (const name of payload) pairs.push([name, await zb.addFile(name, join(dir, name))]);
    return pairs;
  });
  return { path: dest, control: signed, files: payload.length };
}

/**
 * Writes payload (via `addPayload`), then control, certificate, manifest and its
 * signature, in W-A1b order; sets the file mtime to the signing date (W-E4).
 */
export async function writeSignedZip(
  dest: string,
  signed: ControlFields,
  opts: { signer: Signer; date: Date },
  addPayload: (zb: ZipBuilder) => Promise<[string, string][]>,
): Promise<void> {
  const zb = ZipBuilder.create(dest, { mtime: opts.date });
  try {
    const pairs = await addPayload(zb);
    pairs.push([CONTROL_MEMBER, zb.addBuffer(CONTROL_MEMBER, Buffer.from(serializeControl(signed), 'utf8'))]);
    const pem = opts.signer.certificates.map((c) => certificateToPem(c).trim()).join('\n') + '\n';
    pairs.push([CERTIFICATE_MEMBER, zb.addBuffer(CERTIFICATE_MEMBER, Buffer.from(pem, 'utf8'))]);
    const manifest = Buffer.from(manifestJson(pairs), 'utf8');
    zb.addBuffer(MANIFEST_MEMBER, manifest);
    zb.addBuffer(SIGNATURE_MEMBER, Buffer.from(mimeBase64(signSha256(opts.signer.key, manifest)), 'ascii'));
    await zb.finish();
  } catch (err) {
    await zb.abort();
    throw err;
  }
  await utimes(dest, opts.date, opts.date);
}
