// What the scanner needs from one .wapt (W-F2): its control and certificates
// (two small members; the payload is never inflated) and md5 + sha256 of the
// whole file in one streaming pass.
import { createHash, type X509Certificate } from 'node:crypto';
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { WaptError } from '../../errors.js';
import { certificateToPem, fingerprintSha256, parseCertificates } from '../../crypto/index.js';
import { field, parseControl, type ControlFields } from '../../package/control.js';
import { hashFile } from '../../package/hash-stream.js';
import { CERTIFICATE_MEMBER, CONTROL_MEMBER, setupKindOf, type SetupKind } from '../../package/manifest.js';
import { PackageZip } from '../../package/zip-reader.js';
import { serializeIndexEntry } from '../index-file/packages-text.js';
import type { CachedPackage } from './cache.js';

const SMALL_MEMBER_MAX = 1024 * 1024;

export interface ReadForIndex {
  entry: CachedPackage;
  fields: ControlFields;
  certificates: X509Certificate[];
}

/** Parsed certificate bundles by their text: 10,000 packages usually carry a handful of signers. */
export class CertificateMemo {
  private readonly byText = new Map<string, X509Certificate[]>();
  readonly pems = new Map<string, string>();
  private readonly byFp = new Map<string, X509Certificate>();

  parseBundle(text: string): X509Certificate[] {
    let certs = this.byText.get(text);
    if (!certs) {
      certs = parseCertificates(text);
      this.byText.set(text, certs);
      for (const c of certs) this.remember(c);
    }
    return certs;
  }

  remember(cert: X509Certificate): string {
    const fp = fingerprintSha256(cert);
    if (!this.byFp.has(fp)) {
      this.byFp.set(fp, cert);
      this.pems.set(fp, certificateToPem(cert));
    }
    return fp;
  }

  /** From the fingerprint, using PEMs kept in the scan cache when not parsed in this run. */
  get(fp: string, cachedPems: ReadonlyMap<string, string>): X509Certificate | undefined {
    let cert = this.byFp.get(fp);
    if (!cert) {
      const pem = cachedPems.get(fp);
      if (!pem) return undefined;
      cert = parseCertificates(pem)[0];
      if (cert) this.remember(cert);
    }
    return cert;
  }
}

/** Below this size one exact-size read beats a stream (whose 1 MiB read buffers dominate for small packages). */
const SMALL_FILE = 1024 * 1024;

/** md5 (W-F1 md5sum) and sha256 (ours) of the whole file, in one pass. */
async function digests(path: string, size: number): Promise<Record<string, string>> {
  if (size > SMALL_FILE) return hashFile(path, ['sha256', 'md5']);
  const data = await readFile(path);
  return { sha256: createHash('sha256').update(data).digest('hex'), md5: createHash('md5').update(data).digest('hex') };
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

/** Reads control + certificates, hashes the file, builds its index block (W-F1). */
export async function readPackageForIndex(path: string, filename: string, st: Stats, memo: CertificateMemo): Promise<ReadForIndex> {
  let controlText: string;
  let certText: string | null = null;
  let setupKind: SetupKind;
  const zip = await PackageZip.open(path);
  try {
    if (!zip.has(CONTROL_MEMBER)) {
      throw new WaptError('CONTROL_PARSE', `${CONTROL_MEMBER} is missing`, { detail: { file: filename } });
    }
    controlText = (await zip.readMember(CONTROL_MEMBER, SMALL_MEMBER_MAX)).toString('utf8');
    if (zip.has(CERTIFICATE_MEMBER)) certText = (await zip.readMember(CERTIFICATE_MEMBER, SMALL_MEMBER_MAX)).toString('latin1');
    setupKind = setupKindOf(zip.members.map((m) => m.name));
  } finally {
    zip.close();
  }
  const fields = parseControl(controlText, { source: `${filename}:${CONTROL_MEMBER}` });
  const certificates = certText === null ? [] : memo.parseBundle(certText);
  const hashes = await digests(path, st.size);
  // The digests must describe the bytes that size/mtime describe: a file being
  // copied in is caught here and picked up complete by the next scan.
  if (!sameFile(st, await stat(path))) {
    throw new WaptError('IO_ERROR', 'the file changed while it was being scanned; run scanpackages again', { detail: { file: filename } });
  }
  // W-F1 index-only attributes; whatever the package itself claimed for them is replaced.
  fields.set('filename', filename);
  fields.set('size', String(st.size));
  fields.set('md5sum', hashes.md5!);
  fields.set('sha256', hashes.sha256!);
  const entry: CachedPackage = {
    size: st.size,
    mtimeMs: st.mtimeMs,
    ino: st.ino,
    md5: hashes.md5!,
    sha256: hashes.sha256!,
    package: field(fields, 'package'),
    version: field(fields, 'version'),
    section: field(fields, 'section'),
    signatureDate: field(fields, 'signature_date'),
    setupKind,
    certs: certificates.map((c) => fingerprintSha256(c)),
    verified: null,
    block: Buffer.from(serializeIndexEntry(fields), 'utf8'),
  };
  return { entry, fields, certificates };
}
