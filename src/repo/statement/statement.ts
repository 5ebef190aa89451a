// X2 (ours): the signed index statement. It binds the exact bytes of the
// `Packages` member to a version that only grows and to an expiry date, so a
// client can refuse a replayed (rollback), frozen (expired) or edited index.
// Layout and client rules: docs/index-statement.md. Pure: bytes in, verdict out.
import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { WaptError } from '../../errors.js';
import { decodeBase64Loose, fingerprintSha256, signSha256, verifySha256, type TrustStore } from '../../crypto/index.js';

/** Zip members of the `Packages` file; WAPT ignores members it does not know. */
export const STATEMENT_MEMBER = 'wapt-get/index-statement.json';
export const STATEMENT_SIGNATURE_MEMBER = 'wapt-get/index-statement.json.sig';
export const STATEMENT_FORMAT = 1;
/** Statements are a few hundred bytes; anything larger is not ours. */
export const STATEMENT_MAX_BYTES = 64 * 1024;

export interface StatementFields {
  format: number;
  repository: string;
  version: number;
  created: string;
  expires: string;
  packages_sha256: string;
  signer_fingerprint: string;
}

/** The two members as stored: JSON bytes and the base64 signature text. */
export interface IndexStatement {
  bytes: Buffer;
  signature: Buffer;
}

export interface CreateStatementOptions {
  packagesBytes: Buffer;
  /** sha256 hex of packagesBytes, when already computed. */
  packagesSha256?: string;
  /** Version of the statement this one replaces (null: none known). */
  previousVersion: number | null;
  expiresInMs: number;
  key: KeyObject;
  cert: X509Certificate;
  now?: Date;
  /** A name for the repository (no URL: mirrors serve the same statement). */
  repository?: string;
}

/**
 * previous + 1, but never below the current Unix time in seconds: a repository
 * directory re-created from scratch (no previous statement) still moves past
 * every version its clients have seen, as long as the clock is right.
 */
export function nextStatementVersion(previousVersion: number | null, now: Date): number {
  const clock = Math.floor(now.getTime() / 1000);
  return Math.max(previousVersion === null ? 0 : previousVersion + 1, clock);
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Canonical bytes: the fields in this fixed order, compact JSON, UTF-8, no trailing newline. */
export function serializeStatement(fields: StatementFields): Buffer {
  const ordered: StatementFields = {
    format: fields.format,
    repository: fields.repository,
    version: fields.version,
    created: fields.created,
    expires: fields.expires,
    packages_sha256: fields.packages_sha256,
    signer_fingerprint: fields.signer_fingerprint,
  };
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}

export function createStatement(opts: CreateStatementOptions): IndexStatement & { fields: StatementFields } {
  if (!Number.isFinite(opts.expiresInMs) || opts.expiresInMs <= 0) {
    throw new WaptError('USAGE', `index statement lifetime must be positive (got ${opts.expiresInMs} ms)`);
  }
  const now = opts.now ?? new Date();
  const fields: StatementFields = {
    format: STATEMENT_FORMAT,
    repository: opts.repository ?? '',
    version: nextStatementVersion(opts.previousVersion, now),
    created: now.toISOString(),
    expires: new Date(now.getTime() + opts.expiresInMs).toISOString(),
    packages_sha256: opts.packagesSha256 ?? sha256Hex(opts.packagesBytes),
    signer_fingerprint: fingerprintSha256(opts.cert),
  };
  const bytes = serializeStatement(fields);
  const sig = signSha256(opts.key, bytes);
  // A key that does not belong to the certificate would publish an index no client accepts.
  if (!verifySha256(opts.cert, bytes, sig)) {
    throw new WaptError('KEY_CERT_MISMATCH', 'the index signing key does not belong to the certificate given');
  }
  return { bytes, signature: Buffer.from(sig.toString('base64') + '\n', 'ascii'), fields };
}

const HEX64 = /^[0-9a-f]{64}$/;

function invalid(message: string): WaptError {
  return new WaptError('INDEX_INVALID', `index statement: ${message}`);
}

/** Shape check only (no signature): the fields we rely on, with their types. */
export function parseStatement(bytes: Buffer): StatementFields {
  if (bytes.length > STATEMENT_MAX_BYTES) throw invalid(`larger than ${STATEMENT_MAX_BYTES} bytes`);
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new WaptError('INDEX_INVALID', 'index statement is not JSON', { cause: err });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalid('not a JSON object');
  const d = data as Record<string, unknown>;
  if (d.format !== STATEMENT_FORMAT) throw invalid(`unsupported format ${JSON.stringify(d.format)} (this wapt-get reads format ${STATEMENT_FORMAT})`);
  if (typeof d.repository !== 'string') throw invalid('repository must be a string');
  if (typeof d.version !== 'number' || !Number.isSafeInteger(d.version) || d.version < 0) throw invalid('version must be a non-negative integer');
  for (const k of ['created', 'expires'] as const) {
    if (typeof d[k] !== 'string' || Number.isNaN(Date.parse(d[k] as string))) throw invalid(`${k} must be an ISO date`);
  }
  for (const k of ['packages_sha256', 'signer_fingerprint'] as const) {
    if (typeof d[k] !== 'string' || !HEX64.test(d[k] as string)) throw invalid(`${k} must be 64 lowercase hex digits`);
  }
  return d as unknown as StatementFields;
}

export interface VerifyStatementOptions {
  trust: TrustStore;
  /** Candidate signer and intermediate certificates: the index's ssl/ members. */
  certificates: readonly X509Certificate[] | ReadonlyMap<string, X509Certificate>;
  now?: Date;
  /** Highest statement version this client accepted from the repository (null: never saw one). */
  lastSeenVersion: number | null;
  /** Refuse an index without a statement (the repository served a signed one before, or policy). */
  requireSigned: boolean;
}

export interface VerifiedStatement {
  version: number;
  created: Date;
  expires: Date;
  repository: string;
  signer: X509Certificate;
  fingerprint: string;
}

/**
 * X2 client rules, in order: signature by a trusted certificate, digest of the
 * Packages bytes, no rollback, not expired. Returns null for an unsigned index
 * when that is allowed.
 */
export function verifyStatement(
  statement: Buffer | null,
  signature: Buffer | null,
  packagesBytes: Buffer,
  opts: VerifyStatementOptions,
): VerifiedStatement | null {
  if (statement === null) {
    if (opts.requireSigned) {
      throw new WaptError('INDEX_UNSIGNED', `the index has no signed statement (${STATEMENT_MEMBER}) but one is required`);
    }
    return null;
  }
  const fields = parseStatement(statement);
  const now = opts.now ?? new Date();
  const certs = Array.isArray(opts.certificates)
    ? (opts.certificates as readonly X509Certificate[])
    : [...(opts.certificates as ReadonlyMap<string, X509Certificate>).values()];
  const signer = certs.find((c) => fingerprintSha256(c) === fields.signer_fingerprint);
  if (!signer) {
    throw new WaptError('SIGNER_UNTRUSTED', `index statement signer ${fields.signer_fingerprint.slice(0, 16)}… has no certificate in the index (ssl/)`, {
      detail: { signer_fingerprint: fields.signer_fingerprint },
    });
  }
  const sig = signature === null ? Buffer.alloc(0) : decodeBase64Loose(signature.toString('ascii'));
  if (sig.length === 0 || !verifySha256(signer, statement, sig)) {
    throw new WaptError('SIGNATURE_INVALID', `the index statement signature does not verify (${STATEMENT_SIGNATURE_MEMBER})`, {
      detail: { signer_fingerprint: fields.signer_fingerprint },
    });
  }
  opts.trust.verifyChain(
    signer,
    certs.filter((c) => c !== signer),
    { at: now },
  );

  const actual = sha256Hex(packagesBytes);
  if (actual !== fields.packages_sha256) {
    throw new WaptError('INDEX_DIGEST_MISMATCH', 'the Packages member does not match the sha256 in the signed index statement', {
      detail: { expected: fields.packages_sha256, actual },
    });
  }
  if (opts.lastSeenVersion !== null && fields.version < opts.lastSeenVersion) {
    throw new WaptError(
      'INDEX_ROLLBACK',
      `the server offered index version ${fields.version}, older than version ${opts.lastSeenVersion} already seen (created ${fields.created})`,
      { detail: { offered: fields.version, lastSeen: opts.lastSeenVersion } },
    );
  }
  const expires = new Date(fields.expires);
  if (expires.getTime() <= now.getTime()) {
    const hours = Math.round((now.getTime() - expires.getTime()) / 3_600_000);
    throw new WaptError(
      'INDEX_EXPIRED',
      `the repository index expired on ${fields.expires} (${hours} h ago); the publisher must run scanpackages with the index signing key again to renew it, or the mirror serving it is stale`,
      { detail: { expires: fields.expires, version: fields.version } },
    );
  }
  return {
    version: fields.version,
    created: new Date(fields.created),
    expires,
    repository: fields.repository,
    signer,
    fingerprint: fields.signer_fingerprint,
  };
}
