// What the scanner needs from one .wapt (W-F2): its control and certificates
// (two small members; the payload is never inflated) and md5 + sha256 of the
// whole file: from one in-memory read for small packages, in one streaming pass
// for large ones.
import { createHash, type X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { WaptError } from '../../errors.js';
import { certificateToPem, fingerprintSha256, parseCertificates } from '../../crypto/index.js';
import { checkControlSafety, field, parseControl, type ControlFields } from '../../package/index.js';
import { hashFile } from '../../package/index.js';
import { CERTIFICATE_MEMBER, CONTROL_MEMBER, setupKindOf, type SetupKind } from '../../package/index.js';
import { PackageZip } from '../../package/index.js';
import { openSmallZip } from '../../package/index.js';
import { serializeIndexEntry } from '../index-file/packages-text.js';
import type { CachedPackage } from './cache.js';
import { changedWhileScanned, readWholeSync, sameFile, type FileStamp } from './read-file.js';

export { SMALL_PACKAGE_MAX, type FileStamp } from './read-file.js';

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

interface Members {
  controlText: string;
  certText: string | null;
  setupKind: SetupKind;
}

/**
 * Reads control + certificates, hashes the file, builds its index block (W-F1).
 * `stamp`: size/mtime/inode from the listing, or null when the listing did not stat it.
 */
export async function readPackageForIndex(path: string, filename: string, stamp: FileStamp | null, memo: CertificateMemo): Promise<ReadForIndex> {
  const small = readSmallPackageSync(path, filename, stamp, memo);
  return 'entry' in small ? small : readPackageStreaming(path, filename, small.large, memo);
}

/** The large-package path: PackageZip for the two members, one streaming pass for both digests. */
export async function readPackageStreaming(path: string, filename: string, st: FileStamp, memo: CertificateMemo): Promise<ReadForIndex> {
  let members: Members;
  const zip = await PackageZip.open(path);
  try {
    if (!zip.has(CONTROL_MEMBER)) throw noControl(filename);
    const controlText = (await zip.readMember(CONTROL_MEMBER, SMALL_MEMBER_MAX)).toString('utf8');
    const certText = zip.has(CERTIFICATE_MEMBER) ? (await zip.readMember(CERTIFICATE_MEMBER, SMALL_MEMBER_MAX)).toString('latin1') : null;
    members = { controlText, certText, setupKind: setupKindOf(zip.members.map((m) => m.name)) };
  } finally {
    zip.close();
  }
  const fields = parseControl(members.controlText, { source: `${filename}:${CONTROL_MEMBER}` });
  const certificates = members.certText === null ? [] : memo.parseBundle(members.certText);
  const hashes = await hashFile(path, ['sha256', 'md5']);
  // The digests must describe the bytes that size/mtime describe: a file being
  // copied in is caught here and picked up complete by the next scan.
  if (!sameFile(st, await stat(path))) throw changedWhileScanned(filename);
  return finish(filename, st, fields, certificates, members.setupKind, hashes.md5!, hashes.sha256!);
}

/** The small-package path, reading the file first (synchronously). */
export function readSmallPackageSync(path: string, filename: string, stamp: FileStamp | null, memo: CertificateMemo): ReadForIndex | { large: FileStamp } {
  const whole = readWholeSync(path, filename, stamp);
  return 'data' in whole ? indexSmallPackage(path, filename, whole, memo) : whole;
}

/**
 * The small-package path: digests and the two members from the bytes in
 * memory. `large` for a zip64 archive, which the streaming path handles. The
 * zip rules applied are PackageZip's (zip-small.ts); besides, the scanner only
 * indexes: every client verifies the whole package (manifest, signature, every
 * member) before installing it (package/verify.ts).
 */
export function indexSmallPackage(
  path: string,
  filename: string,
  whole: { data: Buffer; st: FileStamp },
  memo: CertificateMemo,
): ReadForIndex | { large: FileStamp } {
  const { data, st } = whole;
  const zip = openSmallZip(data, path);
  if (!zip) return { large: st };
  if (!zip.has(CONTROL_MEMBER)) throw noControl(filename);
  const controlText = zip.readMember(CONTROL_MEMBER, SMALL_MEMBER_MAX).toString('utf8');
  const certText = zip.has(CERTIFICATE_MEMBER) ? zip.readMember(CERTIFICATE_MEMBER, SMALL_MEMBER_MAX).toString('latin1') : null;
  const setupKind = setupKindOf(zip.members.map((m) => m.name));
  const fields = parseControl(controlText, { source: `${filename}:${CONTROL_MEMBER}` });
  const certificates = certText === null ? [] : memo.parseBundle(certText);
  const md5 = createHash('md5').update(data).digest('hex');
  const sha256 = createHash('sha256').update(data).digest('hex');
  return finish(filename, st, fields, certificates, setupKind, md5, sha256);
}

function noControl(filename: string): WaptError {
  return new WaptError('CONTROL_PARSE', `${CONTROL_MEMBER} is missing`, { detail: { file: filename } });
}

function finish(
  filename: string,
  st: FileStamp,
  fields: ControlFields,
  certificates: X509Certificate[],
  setupKind: SetupKind,
  md5: string,
  sha256: string,
): ReadForIndex {
  checkControlSafety(fields, filename); // W-C1, W-A3: left out with its error, never written into the index
  // W-F1 index-only attributes; whatever the package itself claimed for them is replaced.
  fields.set('filename', filename);
  fields.set('size', String(st.size));
  fields.set('md5sum', md5);
  fields.set('sha256', sha256);
  const entry: CachedPackage = {
    size: st.size,
    mtimeMs: st.mtimeMs,
    ino: st.ino,
    md5,
    sha256,
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
