// X2 client rules (docs/index-statement.md "Client rules"), in order. The signer of
// each statement is asked of the one trust policy (crypto/policy.ts) for THIS
// repository; nothing is stored here: the caller stores only what this accepts.
import type { X509Certificate } from 'node:crypto';
import { WaptError } from '../../errors.js';
import {
  decodeBase64Loose,
  fingerprintSha256,
  TrustPolicy,
  verifySha256,
  type RepositorySigners,
  type SignerRole,
  type TrustStore,
} from '../../crypto/index.js';
import { FRESHNESS_MEMBER, MAX_FRESHNESS_LIFETIME_S, parseFreshness } from './freshness.js';
import { MAX_VERSION_LEAD_S, parseStatement, sha256Hex, STATEMENT_MEMBER, type IndexStatement } from './create.js';

// The writing half keeps its old import path (statement.js).
export * from './create.js';

export interface VerifyStatementOptions {
  trust: TrustStore;
  /** Candidate signer and intermediate certificates: the index's ssl/ members. */
  certificates: readonly X509Certificate[] | ReadonlyMap<string, X509Certificate>;
  now?: Date;
  /** Highest statement version this client accepted for the repository (null: never saw one). */
  lastSeenVersion: number | null;
  /** packages_sha256 accepted at lastSeenVersion: an equal version must be the same index (TUF 5.4.3.1). */
  lastSeenPackagesSha256?: string | null;
  /**
   * Highest CONTENT statement version accepted, and its packages_sha256: a freshness
   * statement may renew only that statement or a newer one, never bring back an older
   * package set (freshness-key compromise is not a rollback).
   */
  lastSeenStatementVersion?: number | null;
  lastSeenStatementPackagesSha256?: string | null;
  /** The repository name this client expects (repository_id, or the one first accepted); null: take the first. */
  expectedRepository?: string | null;
  /** The repository's pins (index_signer, index_freshness_signer); absent: the default rule. */
  signers?: RepositorySigners;
  /** The freshness statement members (refresh-index), when the index has them. */
  freshness?: IndexStatement | null;
  /** Refuse an index without a statement (the repository served a signed one before, or policy). */
  requireSigned: boolean;
}

export interface VerifiedStatement {
  /** The version clients compare: the freshness statement's when there is one. */
  version: number;
  created: Date;
  expires: Date;
  repository: string;
  packagesSha256: string;
  /** The index statement's signer (the content key). */
  signer: X509Certificate;
  fingerprint: string;
  /** The statement's own version, and the freshness signer when a freshness statement renewed it. */
  statementVersion: number;
  freshness: { fingerprint: string; version: number } | null;
}

const asList = (c: VerifyStatementOptions['certificates']): readonly X509Certificate[] =>
  Array.isArray(c) ? (c as readonly X509Certificate[]) : [...(c as ReadonlyMap<string, X509Certificate>).values()];

/** Signature over the exact member bytes, then the policy for `role` (pins, chain, dates, CRLs). */
function checkSigner(
  role: SignerRole,
  member: string,
  bytes: Buffer,
  signature: Buffer | null,
  fingerprint: string,
  certs: readonly X509Certificate[],
  opts: VerifyStatementOptions,
  now: Date,
): X509Certificate {
  const signer = certs.find((c) => fingerprintSha256(c) === fingerprint);
  if (!signer) {
    throw new WaptError('SIGNER_UNTRUSTED', `${member}: signer ${fingerprint.slice(0, 16)}… has no certificate in the index (ssl/)`, {
      detail: { signer_fingerprint: fingerprint },
    });
  }
  const sig = signature === null ? Buffer.alloc(0) : decodeBase64Loose(signature.toString('ascii'));
  if (sig.length === 0 || !verifySha256(signer, bytes, sig)) {
    throw new WaptError('SIGNATURE_INVALID', `the signature of ${member} does not verify (${member}.sig)`, { detail: { signer_fingerprint: fingerprint } });
  }
  TrustPolicy.of(opts.trust).authorize(
    role,
    signer,
    certs.filter((c) => c !== signer),
    { at: now, signers: opts.signers, source: member },
  );
  return signer;
}

/** X2: a version is at most a day ahead of its own signing time, which is at most a day ahead of ours. */
function checkVersionLead(what: string, version: number, created: string, now: Date): void {
  const createdMs = Date.parse(created);
  if (createdMs > now.getTime() + MAX_VERSION_LEAD_S * 1000) {
    throw new WaptError(
      'INDEX_VERSION_AHEAD',
      `the ${what} claims to be signed on ${created}, more than a day after this client's clock (${now.toISOString()})`,
      {
        detail: { created, now: now.toISOString() },
      },
    );
  }
  const limit = Math.floor(createdMs / 1000) + MAX_VERSION_LEAD_S;
  if (version > limit) {
    throw new WaptError(
      'INDEX_VERSION_AHEAD',
      `the ${what} has version ${version}, more than one day ahead of its signing time ${created} (at most ${limit})`,
      {
        detail: { version, created, limit },
      },
    );
  }
}

/**
 * X2 client rules, in order: the statement's signer is allowed for this repository,
 * it names this repository, the Packages digest, the freshness statement (if any),
 * versions not ahead of their time, no rollback or equal-version change, not
 * expired. Returns null for an unsigned index when that is allowed.
 */
export function verifyStatement(
  statement: Buffer | null,
  signature: Buffer | null,
  /** The member's bytes, or its digest streamed before they are read (index-file checkHead). */
  packagesBytes: Buffer | { sha256: string },
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
  const certs = asList(opts.certificates);
  // 1-2. Who signed, and may that certificate sign this repository's index?
  const signer = checkSigner('index-statement', STATEMENT_MEMBER, statement, signature, fields.signer_fingerprint, certs, opts, now);
  // 3. The statement names the repository this client asked for (a DEV index served for PROD).
  if (opts.expectedRepository != null && fields.repository !== opts.expectedRepository) {
    throw new WaptError(
      'INDEX_WRONG_REPOSITORY',
      `the index is signed for repository ${JSON.stringify(fields.repository)}, but this repository is ${JSON.stringify(opts.expectedRepository)}`,
      { detail: { offered: fields.repository, expected: opts.expectedRepository } },
    );
  }
  // 4. Digest of the Packages bytes.
  const actual = Buffer.isBuffer(packagesBytes) ? sha256Hex(packagesBytes) : packagesBytes.sha256;
  if (actual !== fields.packages_sha256) {
    throw new WaptError('INDEX_DIGEST_MISMATCH', 'the Packages member does not match the sha256 in the signed index statement', {
      detail: { expected: fields.packages_sha256, actual },
    });
  }
  checkVersionLead('index statement', fields.version, fields.created, now);
  // 5. A freshness statement renews version and expiry of exactly this statement.
  let effective = { version: fields.version, created: fields.created, expires: fields.expires };
  let freshness: VerifiedStatement['freshness'] = null;
  const fr = opts.freshness ?? null;
  if (fr) {
    const f = parseFreshness(fr.bytes);
    checkSigner('index-freshness', FRESHNESS_MEMBER, fr.bytes, fr.signature, f.signer_fingerprint, certs, opts, now);
    if (f.statement_sha256 !== sha256Hex(statement) || f.packages_sha256 !== fields.packages_sha256 || f.repository !== fields.repository) {
      throw new WaptError('INDEX_DIGEST_MISMATCH', 'the freshness statement does not renew the index statement beside it (another statement or package set)', {
        detail: { statement_sha256: f.statement_sha256, packages_sha256: f.packages_sha256 },
      });
    }
    if (f.version < fields.version) {
      throw new WaptError('INDEX_ROLLBACK', `the freshness statement version ${f.version} is older than the statement it renews (${fields.version})`);
    }
    checkVersionLead('freshness statement', f.version, f.created, now);
    const lifetime = (Date.parse(f.expires) - Date.parse(f.created)) / 1000;
    if (lifetime > MAX_FRESHNESS_LIFETIME_S) {
      throw new WaptError(
        'INDEX_INVALID',
        `the freshness statement lives ${Math.round(lifetime / 86_400)} days (created ${f.created}, expires ${f.expires}); at most ${MAX_FRESHNESS_LIFETIME_S / 86_400} are accepted`,
        { detail: { created: f.created, expires: f.expires } },
      );
    }
    effective = { version: f.version, created: f.created, expires: f.expires };
    freshness = { fingerprint: f.signer_fingerprint, version: f.version };
  }
  // 6a. The content statement itself may not go back either, whatever renews it.
  const lastContent = opts.lastSeenStatementVersion ?? null;
  if (lastContent !== null && fields.version < lastContent) {
    throw new WaptError(
      'INDEX_ROLLBACK',
      `the index statement version ${fields.version} is older than statement version ${lastContent} already accepted${fr ? ': a freshness statement cannot bring back an older package set' : ''}`,
      { detail: { offered: fields.version, lastSeen: lastContent } },
    );
  }
  if (
    lastContent !== null &&
    fields.version === lastContent &&
    opts.lastSeenStatementPackagesSha256 &&
    opts.lastSeenStatementPackagesSha256 !== fields.packages_sha256
  ) {
    throw new WaptError('INDEX_VERSION_REUSED', `index statement version ${fields.version} was accepted before over other packages`, {
      detail: { version: fields.version, offered: fields.packages_sha256, accepted: opts.lastSeenStatementPackagesSha256 },
    });
  }
  // 6. Rollback, and an equal version that is another index (tuf-js EqualVersionError).
  if (opts.lastSeenVersion !== null && effective.version < opts.lastSeenVersion) {
    throw new WaptError(
      'INDEX_ROLLBACK',
      `the server offered index version ${effective.version}, older than version ${opts.lastSeenVersion} already seen (created ${effective.created})`,
      { detail: { offered: effective.version, lastSeen: opts.lastSeenVersion } },
    );
  }
  if (effective.version === opts.lastSeenVersion && opts.lastSeenPackagesSha256 && opts.lastSeenPackagesSha256 !== fields.packages_sha256) {
    throw new WaptError(
      'INDEX_VERSION_REUSED',
      `the server offered index version ${effective.version} again, but over other packages than the index accepted at that version`,
      { detail: { version: effective.version, offered: fields.packages_sha256, accepted: opts.lastSeenPackagesSha256 } },
    );
  }
  // 7. Freeze.
  const expires = new Date(effective.expires);
  if (expires.getTime() <= now.getTime()) {
    const hours = Math.round((now.getTime() - expires.getTime()) / 3_600_000);
    throw new WaptError(
      'INDEX_EXPIRED',
      `the repository index expired on ${effective.expires} (${hours} h ago); the publisher must run scanpackages (or refresh-index) with its signing key again to renew it, or the mirror serving it is stale`,
      { detail: { expires: effective.expires, version: effective.version } },
    );
  }
  return {
    version: effective.version,
    created: new Date(effective.created),
    expires,
    repository: fields.repository,
    packagesSha256: fields.packages_sha256,
    signer,
    fingerprint: fields.signer_fingerprint,
    statementVersion: fields.version,
    freshness,
  };
}
