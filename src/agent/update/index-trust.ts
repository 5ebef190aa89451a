// X2 state kept per repository IDENTITY (the `repository` name its statements
// carry), not per local name: an older bundle imported under a new `--as` name, or
// a mirror configured twice, meets the same rollback state. In `params` (no schema
// change), written in the same transaction as the index it describes:
//   index.trust.<identity>     {"version":N,"packages_sha256":"…",   highest accepted (effective),
//                               "statement_version":M, "statement_packages_sha256":"…"}  and content statement
//   index.repository.<local>   <identity>                           first accepted (TOFU)
import { loadSignerPins, type RepositorySigners } from '../../crypto/index.js';
import { parseStatement, type IndexStatement, type VerifiedStatement } from '../../repo/index.js';
import type { RepoConfig } from '../config.js';
import type { WaptDb } from '../db/index.js';
import type { RepoRow } from '../db/types.js';

/** What verifyStatement needs to judge one repository's statement. */
export interface IndexTrustContext {
  expectedRepository: string | null;
  signers: RepositorySigners;
  lastSeenVersion: number | null;
  lastSeenPackagesSha256: string | null;
  /** The content statement's own mark (a freshness statement may not renew an older one). */
  lastSeenStatementVersion?: number | null;
  lastSeenStatementPackagesSha256?: string | null;
}

interface TrustState {
  version: number;
  packages_sha256: string;
  /** Absent in states written before freshness rollback was checked. */
  statement_version?: number;
  statement_packages_sha256?: string;
}

const trustKey = (identity: string) => `index.trust.${identity}`;
const identityKey = (local: string) => `index.repository.${local}`;

function readState(db: WaptDb, identity: string): TrustState | null {
  const raw = db.params.get(trustKey(identity));
  if (raw === undefined) return null;
  try {
    const s = JSON.parse(raw) as TrustState;
    return Number.isSafeInteger(s.version) && typeof s.packages_sha256 === 'string' ? s : null;
  } catch {
    return null;
  }
}

/** The identity a local repository is bound to: repository_id, else the one it first accepted. */
export function expectedIdentity(db: WaptDb, repos: readonly RepoConfig[], local: string): string | null {
  return repos.find((r) => r.name === local)?.repositoryId ?? db.params.get(identityKey(local)) ?? null;
}

/** The name the statement claims (unverified: used only to find state; verifyStatement checks it). */
function claimedIdentity(statement: IndexStatement | null): string | null {
  if (!statement) return null;
  try {
    return parseStatement(statement.bytes).repository;
  } catch {
    return null;
  }
}

/**
 * The pins for `local`: its own section's, else those of a configured repository bound
 * to the same identity (a bundle of PROD is held to PROD's index_signer).
 */
async function signersFor(db: WaptDb, repos: readonly RepoConfig[], local: string, identity: string | null): Promise<RepositorySigners> {
  const own = repos.find((r) => r.name === local);
  const pinned = (r: RepoConfig | undefined) => r !== undefined && ((r.indexSigners?.length ?? 0) > 0 || (r.indexFreshnessSigners?.length ?? 0) > 0);
  const from = pinned(own) ? own : identity === null ? undefined : repos.find((r) => pinned(r) && expectedIdentity(db, repos, r.name) === identity);
  if (!from) return { index: null, freshness: null };
  const where = `[${from.name}]`;
  return {
    index: await loadSignerPins(`${where} index_signer`, from.indexSigners ?? []),
    freshness: await loadSignerPins(`${where} index_freshness_signer`, from.indexFreshnessSigners ?? []),
  };
}

export async function indexTrustContext(
  db: WaptDb,
  repos: readonly RepoConfig[],
  local: string,
  statement: IndexStatement | null,
  previous: RepoRow | undefined,
): Promise<IndexTrustContext> {
  const expected = expectedIdentity(db, repos, local);
  const identity = expected ?? claimedIdentity(statement);
  const state = identity === null ? null : readState(db, identity);
  // A DB from before identities were kept: the local row's version still counts.
  const legacy = db.params.get(identityKey(local)) === undefined ? (previous?.index_version ?? null) : null;
  const versions = [state?.version ?? null, legacy].filter((v): v is number => v !== null);
  const lastSeenVersion = versions.length > 0 ? Math.max(...versions) : null;
  return {
    expectedRepository: expected,
    signers: await signersFor(db, repos, local, identity),
    lastSeenVersion,
    lastSeenPackagesSha256: state && state.version === lastSeenVersion ? state.packages_sha256 : null,
    lastSeenStatementVersion: state?.statement_version ?? null,
    lastSeenStatementPackagesSha256: state?.statement_packages_sha256 ?? null,
  };
}

/** Inside the transaction that stores the index: bind the local name, raise the identity's state. */
export function recordIndexTrust(db: WaptDb, local: string, st: VerifiedStatement): void {
  if (db.params.get(identityKey(local)) === undefined) db.params.set(identityKey(local), st.repository);
  const prev = readState(db, st.repository);
  // Both marks only rise; verifyStatement refused anything below them before we got here.
  const content =
    prev?.statement_version !== undefined && prev.statement_version > st.statementVersion
      ? { statement_version: prev.statement_version, statement_packages_sha256: prev.statement_packages_sha256 }
      : { statement_version: st.statementVersion, statement_packages_sha256: st.packagesSha256 };
  const effective = prev === null || st.version >= prev.version ? { version: st.version, packages_sha256: st.packagesSha256 } : prev;
  db.params.set(
    trustKey(st.repository),
    JSON.stringify({ version: effective.version, packages_sha256: effective.packages_sha256, ...content } satisfies TrustState),
  );
}
