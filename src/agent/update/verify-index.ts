// The checks every index passes before anything of it is stored, whatever brought it
// (HTTPS, a file: directory, an offline bundle): X2 statement rules, then W-F3 entry
// by entry. Pure apart from the crypto: an index in, a verdict out.
import type { X509Certificate } from 'node:crypto';
import { WaptError, asWaptError } from '../../errors.js';
import { fingerprintSha256, type TrustStore } from '../../crypto/index.js';
import { checkControlSafety, field, serializeControl, type ControlFields } from '../../package/index.js';
import { verifyControlSignature } from '../../package/index.js';
import type { PackagesIndex } from '../../repo/index.js';
import { verifyStatement, type VerifiedStatement } from '../../repo/index.js';
import type { AvailableInput } from '../db/index.js';
import type { RepoRow } from '../db/types.js';
import type { IndexTrustContext } from './index-trust.js';
import type { VerifyCache } from './verify-cache.js';

export interface RejectedEntry {
  package: string;
  version: string;
  filename: string;
  code: string;
  message: string;
}

export interface VerifiedIndex {
  statement: VerifiedStatement | null;
  accepted: AvailableInput[];
  rejected: RejectedEntry[];
  /** Entries whose signature was checked with RSA this time, and those the cache answered. */
  verifiedEntries: number;
  cachedEntries: number;
}

export interface VerifyIndexOptions {
  trust: TrustStore;
  /** What this client remembers of the repository (rollback and "once signed" state). */
  previous: RepoRow | undefined;
  /** allow_unsigned_index: accept an unsigned index even after a signed one. */
  allowUnsigned: boolean;
  /** X2 identity, pins and rollback state of the repository (index-trust.ts); absent: the local row's version only. */
  context?: IndexTrustContext;
  now?: Date;
  /** Issue 12 §2: verdicts of identical signatures over identical bytes (verify-cache.ts). */
  cache?: VerifyCache;
}

/** A file name the cache can use as is: one path segment, no control characters. */
export function isSafeFilename(name: string): boolean {
  return /^[A-Za-z0-9._~+%-]+\.wapt$/i.test(name) && name !== '.wapt' && !name.startsWith('.');
}

/** One stored entry from a verified control carrying its index fields (W-F1). */
export function entryFromControl(fields: ControlFields, signerFingerprint: string): AvailableInput {
  const size = Number(field(fields, 'size'));
  const f = (k: string) => field(fields, k).trim();
  return {
    package: f('package'),
    version: f('version'),
    architecture: f('architecture') || 'all',
    maturity: f('maturity'),
    locale: f('locale'),
    section: f('section') || 'base',
    filename: f('filename'),
    size: Number.isSafeInteger(size) && size >= 0 && f('size') !== '' ? size : null,
    md5sum: f('md5sum').toLowerCase() || null,
    sha256: f('sha256').toLowerCase() || null,
    signer_fingerprint: signerFingerprint,
    signature_date: f('signature_date') || null,
    // Re-serialised with the index fields and unknown keys, so nothing the index said is lost.
    control: serializeControl(fields, { withIndexFields: true, withUnknownFields: true }),
    depends: f('depends'),
    conflicts: f('conflicts'),
    priority: f('priority') || 'optional',
    description: field(fields, 'description'),
  };
}

/** W-F3: one entry; throws the reason it cannot be offered. */
function checkEntry(fields: ControlFields, certificates: X509Certificate[], opts: VerifyIndexOptions): AvailableInput {
  const filename = field(fields, 'filename').trim();
  if (!isSafeFilename(filename)) {
    throw new WaptError('INDEX_INVALID', `${field(fields, 'package')}: filename ${JSON.stringify(filename)} is not a plain *.wapt file name`);
  }
  checkControlSafety(fields, `index entry ${field(fields, 'package')}`); // W-C1, W-A3
  const known = opts.cache?.lookup(fields, certificates);
  if (known) {
    // only the RSA check of identical bytes is skipped: the chain (X4, CRLs, validity) is judged now
    opts.trust.verifyChain(
      known,
      certificates.filter((c) => c !== known),
      { at: opts.now },
    );
    return entryFromControl(fields, fingerprintSha256(known));
  }
  const v = verifyControlSignature(fields, { certificates, trust: opts.trust, at: opts.now });
  opts.cache?.remember(fields, v.fingerprint);
  return entryFromControl(fields, v.fingerprint);
}

/**
 * X2 for an index whose Packages member may not be read yet (`packagesSha256` streamed by
 * readPackagesZip's checkHead): refused before its entries are parsed.
 */
export function verifyIndexStatement(
  index: Pick<PackagesIndex, 'statement' | 'certificates'> & { packagesSha256: string | null },
  opts: VerifyIndexOptions,
): VerifiedStatement | null {
  // X2: a repository that served a signed index once must keep doing so.
  // X2 + issue 8: the signer must be allowed for THIS repository, which the statement must name.
  const ctx = opts.context;
  // no digest yet only when there is no statement (nothing to compare it with)
  return verifyStatement(
    index.statement?.bytes ?? null,
    index.statement?.signature ?? null,
    { sha256: index.packagesSha256 ?? '' },
    {
      trust: opts.trust,
      certificates: index.certificates,
      now: opts.now,
      lastSeenVersion: ctx ? ctx.lastSeenVersion : (opts.previous?.index_version ?? null),
      lastSeenPackagesSha256: ctx?.lastSeenPackagesSha256 ?? null,
      lastSeenStatementVersion: ctx?.lastSeenStatementVersion ?? null,
      lastSeenStatementPackagesSha256: ctx?.lastSeenStatementPackagesSha256 ?? null,
      expectedRepository: ctx?.expectedRepository ?? null,
      signers: ctx?.signers,
      freshness: index.statement?.freshness ?? null,
      requireSigned: (opts.previous?.index_signed ?? false) && !opts.allowUnsigned,
    },
  );
}

/** X2 (unless `checked` already holds its verdict, from verifyIndexStatement), then W-F3 entry by entry. */
export function verifyIndex(index: PackagesIndex, opts: VerifyIndexOptions, checked?: VerifiedStatement | null): VerifiedIndex {
  const statement = checked !== undefined ? checked : verifyIndexStatement(index, opts);
  const certificates = [...index.certificates.values()];
  const accepted: AvailableInput[] = [];
  const rejected: RejectedEntry[] = [];
  for (const fields of index.entries) {
    try {
      accepted.push(checkEntry(fields, certificates, opts));
    } catch (err) {
      const e = asWaptError(err);
      rejected.push({
        package: field(fields, 'package'),
        version: field(fields, 'version'),
        filename: field(fields, 'filename'),
        code: e.code,
        message: e.message,
      });
    }
  }
  const verifiedEntries = opts.cache ? opts.cache.verified : accepted.length;
  return { statement, accepted, rejected, verifiedEntries, cachedEntries: opts.cache?.cached ?? 0 };
}
