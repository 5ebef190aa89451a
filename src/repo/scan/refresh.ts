// `refresh-index` (X2 freshness, issue 11 §5): renew the version and expiry of the
// statement already in `Packages` with a freshness-only key, so the content key can
// stay offline. Every member but the freshness pair is copied byte for byte; the
// statement must verify over these Packages bytes first, so a freshness key can never
// renew an edited index (and clients check that again, docs/index-statement.md).
import type { KeyObject, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { WaptError } from '../../errors.js';
import {
  certificateToPem,
  commonName,
  decodeBase64Loose,
  fingerprintSha256,
  parseCertificates,
  TrustPolicy,
  verifySha256,
  type TrustStore,
} from '../../crypto/index.js';
import { PackageZip } from '../../package/index.js';
import { writeIndexZip, type IndexZipMember } from '../index-file/index-zip.js';
import { PACKAGES_MAX_BYTES } from '../index-file/packages-zip.js';
import { parseStatement, sha256Hex, STATEMENT_MAX_BYTES, STATEMENT_MEMBER, STATEMENT_SIGNATURE_MEMBER, type StatementFields } from '../statement/create.js';
import { createFreshness, FRESHNESS_MEMBER, FRESHNESS_SIGNATURE_MEMBER, parseFreshness, type FreshnessFields } from '../statement/freshness.js';

export interface RefreshOptions {
  key: KeyObject;
  cert: X509Certificate;
  expiresInMs: number;
  /** When given, the statement's signer must also chain to it (the policy for index statements). */
  trust?: TrustStore;
  now?: Date;
}

export interface RefreshResult {
  path: string;
  repository: string;
  /** The renewed version clients compare, and the statement's own (unchanged). */
  version: number;
  statementVersion: number;
  expires: string;
  packagesSha256: string;
}

const KNOWN = /^(Packages|ssl\/[^/]+\.(crt|pem)|crl\/[^/]+\.crl)$/i;

/** Refuse a key that could sign the content itself: the freshness key must be allowed for nothing else. */
function checkFreshnessKey(cert: X509Certificate): void {
  if (TrustPolicy.refusal('index-statement', cert) === null) {
    throw new WaptError(
      'SIGNER_NOT_ALLOWED',
      `refresh-index: ${commonName(cert)} is a code-signing certificate, which may sign the index content itself; ` +
        'give refresh-index a certificate without code signing that clients pin as index_freshness_signer',
      { detail: { role: 'index-freshness', signer: commonName(cert), fingerprint: fingerprintSha256(cert) } },
    );
  }
}

/** The statement in `Packages`, checked: its signature, its key's role, the Packages digest. */
function checkStatement(bytes: Buffer, sigText: Buffer, packagesBytes: Buffer, certs: X509Certificate[], opts: RefreshOptions): StatementFields {
  const fields = parseStatement(bytes);
  const signer = certs.find((c) => fingerprintSha256(c) === fields.signer_fingerprint);
  const sig = decodeBase64Loose(sigText.toString('ascii'));
  if (!signer || sig.length === 0 || !verifySha256(signer, bytes, sig)) {
    throw new WaptError(
      'SIGNATURE_INVALID',
      `the index statement in Packages does not verify (${STATEMENT_SIGNATURE_MEMBER}); run scanpackages --sign with the content key`,
    );
  }
  if (opts.trust) {
    TrustPolicy.of(opts.trust).authorize(
      'index-statement',
      signer,
      certs.filter((c) => c !== signer),
      { at: opts.now },
    );
  } else {
    const refused = TrustPolicy.refusal('index-statement', signer);
    if (refused) throw refused;
  }
  if (sha256Hex(packagesBytes) !== fields.packages_sha256) {
    throw new WaptError(
      'INDEX_DIGEST_MISMATCH',
      'the Packages member does not match its signed statement: it was edited; refresh-index renews only an unchanged index',
    );
  }
  return fields;
}

/** The version clients may have seen: the current freshness's if it is ours, else (bounded by the clock) anyway. */
function previousVersion(fields: StatementFields, fresh: FreshnessFields | null, now: Date): number {
  if (!fresh) return fields.version;
  return Math.max(fields.version, Math.min(fresh.version, Math.floor(now.getTime() / 1000)));
}

export async function refreshIndex(dir: string, opts: RefreshOptions): Promise<RefreshResult> {
  const now = opts.now ?? new Date();
  checkFreshnessKey(opts.cert);
  const path = join(dir, 'Packages');
  const zip = await PackageZip.open(path);
  const kept: IndexZipMember[] = [];
  let statement: Buffer | null = null;
  let signature: Buffer = Buffer.alloc(0);
  let fresh: FreshnessFields | null = null;
  const certs: X509Certificate[] = [];
  let packagesBytes: Buffer | null = null;
  try {
    for (const m of zip.members) {
      if (m.isDirectory) continue;
      if (m.name === STATEMENT_MEMBER) statement = await zip.readMember(m.name, STATEMENT_MAX_BYTES);
      else if (m.name === STATEMENT_SIGNATURE_MEMBER) signature = await zip.readMember(m.name, STATEMENT_MAX_BYTES);
      else if (m.name === FRESHNESS_MEMBER) fresh = parseFreshness(await zip.readMember(m.name, STATEMENT_MAX_BYTES));
      else if (KNOWN.test(m.name)) {
        const data = await zip.readMember(m.name, m.name === 'Packages' ? PACKAGES_MAX_BYTES : 1024 * 1024);
        if (m.name === 'Packages') packagesBytes = data;
        if (m.name.startsWith('ssl/')) certs.push(...parseCertificates(data));
        kept.push({ name: m.name, data, compress: true });
      }
    }
  } finally {
    zip.close();
  }
  if (!packagesBytes) throw new WaptError('INDEX_INVALID', `${path}: no Packages member`);
  if (!statement) throw new WaptError('INDEX_UNSIGNED', `${path} has no signed statement to renew: run scanpackages --sign with the content key first`);
  const fields = checkStatement(statement, signature, packagesBytes, certs, opts);
  const made = createFreshness({
    statement: { bytes: statement, fields },
    previousVersion: previousVersion(fields, fresh, now),
    expiresInMs: opts.expiresInMs,
    key: opts.key,
    cert: opts.cert,
    now,
  });
  const fp = fingerprintSha256(opts.cert);
  if (!certs.some((c) => fingerprintSha256(c) === fp))
    kept.push({ name: `ssl/${fp}.crt`, data: Buffer.from(certificateToPem(opts.cert), 'ascii'), compress: true });
  await writeIndexZip(
    path,
    [
      ...kept,
      { name: STATEMENT_MEMBER, data: statement, compress: false },
      { name: STATEMENT_SIGNATURE_MEMBER, data: signature, compress: false },
      { name: FRESHNESS_MEMBER, data: made.bytes, compress: false },
      { name: FRESHNESS_SIGNATURE_MEMBER, data: made.signature, compress: false },
    ],
    { mtime: now },
  );
  return {
    path,
    repository: fields.repository,
    version: made.fields.version,
    statementVersion: fields.version,
    expires: made.fields.expires,
    packagesSha256: fields.packages_sha256,
  };
}
