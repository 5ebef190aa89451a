// The `Packages` zip (W-F1): the index text, signer certificates under ssl/,
// optional CRLs under crl/, and our signed statement (X2) that WAPT ignores.
import { createHash, type X509Certificate } from 'node:crypto';
import { WaptError } from '../../errors.js';
import { certificateToPem, fingerprintSha256, parseCertificates } from '../../crypto/index.js';
import type { ControlFields } from '../../package/index.js';
import { PackageZip } from '../../package/index.js';
import {
  createStatement,
  STATEMENT_MAX_BYTES,
  STATEMENT_MEMBER,
  STATEMENT_SIGNATURE_MEMBER,
  type CreateStatementOptions,
  type IndexStatement,
  type StatementFields,
} from '../statement/statement.js';
import { FRESHNESS_MEMBER, FRESHNESS_SIGNATURE_MEMBER } from '../statement/freshness.js';
import { writeIndexZip, type IndexZipMember } from './index-zip.js';
import { parsePackagesText, serializePackagesText } from './packages-text.js';

export const PACKAGES_MEMBER = 'Packages';
/** 10,000 entries are about 20 MB of text; this leaves room without trusting any size. */
export const PACKAGES_MAX_BYTES = 512 * 1024 * 1024;
const SMALL_MEMBER_MAX = 1024 * 1024;

export interface PackagesIndex {
  entries: ControlFields[];
  /** Keyed by the SHA-256 of each certificate's DER, computed here (member names are not trusted). */
  certificates: Map<string, X509Certificate>;
  crls: Buffer[];
  statement: IndexStatement | null;
  /** The exact bytes of the `Packages` member, for the statement digest (X2). */
  packagesBytes: Buffer;
  /** sha256 (hex) of packagesBytes. */
  packagesSha256: string;
}

/** What is known of an index before its `Packages` member is read into memory. */
export interface PackagesIndexHead {
  certificates: Map<string, X509Certificate>;
  crls: Buffer[];
  statement: IndexStatement | null;
  /** sha256 of the member, streamed through the hash without keeping it (null when unsigned: not read yet). */
  packagesSha256: string | null;
}

export interface ReadPackagesOptions {
  /** A certificate member that does not parse is left out and reported here. */
  onWarning?: (message: string) => void;
  /**
   * X2 before parsing: called with the statement, the certificates and the streamed digest
   * of the Packages member; throwing refuses the index before the member is held in memory
   * or parsed (a 480 MB member refused as unsigned, or as not matching its statement, costs
   * a hash pass, not gigabytes).
   */
  checkHead?: (head: PackagesIndexHead) => void | Promise<void>;
}

async function openIndex(path: string): Promise<PackageZip> {
  try {
    return await PackageZip.open(path);
  } catch (err) {
    if (err instanceof WaptError && err.code === 'IO_ERROR') throw err;
    throw new WaptError('INDEX_INVALID', `${path}: not a readable Packages zip: ${(err as Error).message}`, { cause: err });
  }
}

async function readStatementMembers(zip: PackageZip): Promise<IndexStatement | null> {
  if (!zip.has(STATEMENT_MEMBER)) return null;
  const bytes = await zip.readMember(STATEMENT_MEMBER, STATEMENT_MAX_BYTES);
  // A statement without its signature member is reported as an invalid signature by verifyStatement.
  const signature = zip.has(STATEMENT_SIGNATURE_MEMBER) ? await zip.readMember(STATEMENT_SIGNATURE_MEMBER, STATEMENT_MAX_BYTES) : Buffer.alloc(0);
  // X2 freshness (refresh-index): verified beside the statement it renews.
  const freshness = zip.has(FRESHNESS_MEMBER)
    ? {
        bytes: await zip.readMember(FRESHNESS_MEMBER, STATEMENT_MAX_BYTES),
        signature: zip.has(FRESHNESS_SIGNATURE_MEMBER) ? await zip.readMember(FRESHNESS_SIGNATURE_MEMBER, STATEMENT_MAX_BYTES) : Buffer.alloc(0),
      }
    : null;
  return { bytes, signature, freshness };
}

/** The member's sha256, streamed (size-capped by its declared size, ZIP_BOMB beyond it); nothing is kept. */
async function streamedSha256(zip: PackageZip, name: string): Promise<string> {
  const h = createHash('sha256');
  await zip.forEachChunk(name, (chunk) => void h.update(chunk), { crc: true });
  return h.digest('hex');
}

/** W-F1: reads a Packages zip made by WAPT (1.8 or 2.x) or by wapt-get. */
export async function readPackagesZip(path: string, opts: ReadPackagesOptions = {}): Promise<PackagesIndex> {
  const zip = await openIndex(path);
  try {
    if (!zip.has(PACKAGES_MEMBER)) {
      throw new WaptError('INDEX_INVALID', `${path}: the zip has no ${PACKAGES_MEMBER} member`);
    }
    const member = zip.members.find((m) => m.name === PACKAGES_MEMBER)!;
    if (member.uncompressedSize > PACKAGES_MAX_BYTES) {
      throw new WaptError(
        'INDEX_INVALID',
        `${path}: the ${PACKAGES_MEMBER} member declares ${member.uncompressedSize} bytes, more than ${PACKAGES_MAX_BYTES}`,
        {
          detail: { size: member.uncompressedSize, maxBytes: PACKAGES_MAX_BYTES },
        },
      );
    }
    const { certificates, crls } = await readCertificateMembers(zip, path, opts);
    const statement = await readStatementMembers(zip);
    // X2 first: the statement and the digest of the member decide before any parsing.
    const streamed = statement && opts.checkHead ? await streamedSha256(zip, PACKAGES_MEMBER) : null;
    await opts.checkHead?.({ certificates, crls, statement, packagesSha256: streamed });
    const packagesBytes = await zip.readMember(PACKAGES_MEMBER, PACKAGES_MAX_BYTES);
    const packagesSha256 = createHash('sha256').update(packagesBytes).digest('hex');
    if (streamed !== null && packagesSha256 !== streamed) {
      // one handle, read twice: what is parsed must be what was checked
      throw new WaptError('INDEX_DIGEST_MISMATCH', `${path}: the ${PACKAGES_MEMBER} member changed between its check and its use`);
    }
    const entries = parsePackagesText(packagesBytes.toString('utf8'), PACKAGES_MEMBER);
    return { entries, certificates, crls, statement, packagesBytes, packagesSha256 };
  } finally {
    zip.close();
  }
}

/** ssl/*.crt|pem and crl/*.crl: small members, each capped. */
async function readCertificateMembers(
  zip: PackageZip,
  path: string,
  opts: ReadPackagesOptions,
): Promise<{ certificates: Map<string, X509Certificate>; crls: Buffer[] }> {
  const certificates = new Map<string, X509Certificate>();
  const crls: Buffer[] = [];
  for (const m of zip.members) {
    if (m.isDirectory) continue;
    if (/^ssl\/[^/]+\.(crt|pem)$/i.test(m.name)) {
      try {
        for (const cert of parseCertificates(await zip.readMember(m.name, SMALL_MEMBER_MAX))) {
          certificates.set(fingerprintSha256(cert), cert);
        }
      } catch (err) {
        opts.onWarning?.(`${path}: ${m.name} left out: ${(err as Error).message}`);
      }
    } else if (/^crl\/[^/]+\.crl$/i.test(m.name)) {
      crls.push(await zip.readMember(m.name, SMALL_MEMBER_MAX));
    }
  }
  return { certificates, crls };
}

/** Only the statement members: the scanner needs the previous version, not 10,000 entries. */
export async function readPackagesStatement(path: string): Promise<IndexStatement | null> {
  const zip = await openIndex(path);
  try {
    return await readStatementMembers(zip);
  } finally {
    zip.close();
  }
}

export type StatementSigning = Omit<CreateStatementOptions, 'packagesBytes' | 'packagesSha256' | 'now'>;

export interface WritePackagesBytesOptions {
  packagesBytes: Buffer;
  /** sha256 hex of packagesBytes when the caller has it already (saves a pass over 20 MB). */
  packagesSha256?: string;
  /** Signer and intermediate certificates; written once each as ssl/<sha256>.crt. */
  certificates: Iterable<X509Certificate>;
  /** When given, an X2 statement over packagesBytes is added (its certificate joins ssl/). */
  statement?: StatementSigning;
  /** Zip member dates and the statement's `created` (default: now). */
  now?: Date;
}

export interface WritePackagesResult {
  size: number;
  packagesBytes: Buffer;
  statement: StatementFields | null;
}

/** Writes the zip from ready-made `Packages` bytes (temp file, fsync, rename). */
export async function writePackagesZipBytes(dest: string, opts: WritePackagesBytesOptions): Promise<WritePackagesResult> {
  const now = opts.now ?? new Date();
  const certs = new Map<string, X509Certificate>();
  for (const c of opts.certificates) certs.set(fingerprintSha256(c), c);
  const members: IndexZipMember[] = [{ name: PACKAGES_MEMBER, data: opts.packagesBytes, compress: true }];
  let fields: StatementFields | null = null;
  const extra: IndexZipMember[] = [];
  if (opts.statement) {
    const made = createStatement({ ...opts.statement, packagesBytes: opts.packagesBytes, packagesSha256: opts.packagesSha256, now });
    fields = made.fields;
    certs.set(fingerprintSha256(opts.statement.cert), opts.statement.cert);
    extra.push({ name: STATEMENT_MEMBER, data: made.bytes, compress: false });
    extra.push({ name: STATEMENT_SIGNATURE_MEMBER, data: made.signature, compress: false });
  }
  // Sorted so the same certificates always give the same zip.
  for (const fp of [...certs.keys()].sort()) {
    members.push({ name: `ssl/${fp}.crt`, data: Buffer.from(certificateToPem(certs.get(fp)!), 'ascii'), compress: true });
  }
  const { size } = await writeIndexZip(dest, [...members, ...extra], { mtime: now });
  return { size, packagesBytes: opts.packagesBytes, statement: fields };
}

export interface WritePackagesOptions extends Omit<WritePackagesBytesOptions, 'packagesBytes'> {
  entries: readonly ControlFields[];
}

/** W-F1: each entry serialised with its index fields, blocks joined by one empty line. */
export async function writePackagesZip(dest: string, opts: WritePackagesOptions): Promise<WritePackagesResult> {
  const packagesBytes = Buffer.from(serializePackagesText(opts.entries), 'utf8');
  return writePackagesZipBytes(dest, { ...opts, packagesBytes });
}
