// X2 freshness (ours, after TUF's timestamp role): a second small statement that
// renews the version and expiry of the index statement beside it, signed by a key
// the repository pins only for that (`index_freshness_signer`). It names the exact
// bytes of the statement it renews and that statement's packages_sha256, so a
// freshness key can keep an index alive but never change what it covers.
// Layout: docs/index-statement.md. Pure: bytes in, bytes out.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { WaptError } from '../../errors.js';
import { fingerprintSha256, signSha256, verifySha256 } from '../../crypto/index.js';
import { nextStatementVersion, sha256Hex, STATEMENT_FORMAT, STATEMENT_MAX_BYTES, type IndexStatement, type StatementFields } from './create.js';

export const FRESHNESS_MEMBER = 'wapt-get/index-freshness.json';
export const FRESHNESS_SIGNATURE_MEMBER = 'wapt-get/index-freshness.json.sig';

export interface FreshnessFields {
  format: number;
  repository: string;
  version: number;
  created: string;
  expires: string;
  /** sha256 hex of the exact bytes of the index statement this renews. */
  statement_sha256: string;
  /** Copied from that statement: the package set stays the same. */
  packages_sha256: string;
  signer_fingerprint: string;
}

export interface CreateFreshnessOptions {
  /** The statement being renewed (its bytes as stored, and their parsed fields). */
  statement: { bytes: Buffer; fields: StatementFields };
  /** Highest version clients may have seen: the current freshness's, else the statement's. */
  previousVersion: number;
  expiresInMs: number;
  key: KeyObject;
  cert: X509Certificate;
  now?: Date;
}

/**
 * The longest a freshness statement may live (clients refuse more): the freshness key is
 * online, so what it signs must run out soon on its own (TUF keeps timestamp roles short).
 */
export const MAX_FRESHNESS_LIFETIME_S = 31 * 86_400;

export function serializeFreshness(f: FreshnessFields): Buffer {
  const ordered: FreshnessFields = {
    format: f.format,
    repository: f.repository,
    version: f.version,
    created: f.created,
    expires: f.expires,
    statement_sha256: f.statement_sha256,
    packages_sha256: f.packages_sha256,
    signer_fingerprint: f.signer_fingerprint,
  };
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}

export function createFreshness(opts: CreateFreshnessOptions): IndexStatement & { fields: FreshnessFields } {
  if (!Number.isFinite(opts.expiresInMs) || opts.expiresInMs <= 0) {
    throw new WaptError('USAGE', `freshness lifetime must be positive (got ${opts.expiresInMs} ms)`);
  }
  if (opts.expiresInMs > MAX_FRESHNESS_LIFETIME_S * 1000) {
    throw new WaptError(
      'USAGE',
      `a freshness statement lives at most ${MAX_FRESHNESS_LIFETIME_S / 86_400} days (clients refuse longer ones); renew it daily instead`,
    );
  }
  const now = opts.now ?? new Date();
  const fields: FreshnessFields = {
    format: STATEMENT_FORMAT,
    repository: opts.statement.fields.repository,
    version: nextStatementVersion(opts.previousVersion, now),
    created: now.toISOString(),
    expires: new Date(now.getTime() + opts.expiresInMs).toISOString(),
    statement_sha256: sha256Hex(opts.statement.bytes),
    packages_sha256: opts.statement.fields.packages_sha256,
    signer_fingerprint: fingerprintSha256(opts.cert),
  };
  const bytes = serializeFreshness(fields);
  const sig = signSha256(opts.key, bytes);
  if (!verifySha256(opts.cert, bytes, sig)) {
    throw new WaptError('KEY_CERT_MISMATCH', 'the freshness signing key does not belong to the certificate given');
  }
  return { bytes, signature: Buffer.from(sig.toString('base64') + '\n', 'ascii'), fields };
}

const HEX64 = /^[0-9a-f]{64}$/;

function invalid(message: string): WaptError {
  return new WaptError('INDEX_INVALID', `index freshness statement: ${message}`);
}

/** Shape check only (no signature). */
export function parseFreshness(bytes: Buffer): FreshnessFields {
  if (bytes.length > STATEMENT_MAX_BYTES) throw invalid(`larger than ${STATEMENT_MAX_BYTES} bytes`);
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new WaptError('INDEX_INVALID', 'index freshness statement is not JSON', { cause: err });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalid('not a JSON object');
  const d = data as Record<string, unknown>;
  if (d.format !== STATEMENT_FORMAT) throw invalid(`unsupported format ${JSON.stringify(d.format)}`);
  if (typeof d.repository !== 'string') throw invalid('repository must be a string');
  if (typeof d.version !== 'number' || !Number.isSafeInteger(d.version) || d.version < 0) throw invalid('version must be a non-negative integer');
  for (const k of ['created', 'expires'] as const) {
    if (typeof d[k] !== 'string' || Number.isNaN(Date.parse(d[k] as string))) throw invalid(`${k} must be an ISO date`);
  }
  for (const k of ['statement_sha256', 'packages_sha256', 'signer_fingerprint'] as const) {
    if (typeof d[k] !== 'string' || !HEX64.test(d[k] as string)) throw invalid(`${k} must be 64 lowercase hex digits`);
  }
  return d as unknown as FreshnessFields;
}
