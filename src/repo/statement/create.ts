// X2 (ours): the signed index statement. It binds the exact bytes of the
// `Packages` member to a version that only grows and to an expiry date, so a
// client can refuse a replayed (rollback), frozen (expired) or edited index.
// Layout and client rules: docs/index-statement.md. Pure: bytes in, verdict out.
import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { WaptError } from '../../errors.js';
import { fingerprintSha256, signSha256, verifySha256 } from '../../crypto/index.js';

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
  /** The freshness statement renewing this one (refresh-index), when the index has it. */
  freshness?: IndexStatement | null;
}

/** A version may lead its statement's own signing time by at most this (X2: not a free 53-bit number). */
export const MAX_VERSION_LEAD_S = 86_400;

/** Repository names as scanpackages --repository takes them: no URL, no spaces. */
export const REPOSITORY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

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
  const repository = opts.repository ?? '';
  if (!REPOSITORY_NAME.test(repository)) {
    throw new WaptError('USAGE', `index statement: repository name ${JSON.stringify(repository)}: use letters, digits, . _ - (scanpackages --repository NAME)`);
  }
  const fields: StatementFields = {
    format: STATEMENT_FORMAT,
    repository,
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
