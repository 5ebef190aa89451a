// Updating one repository: fetch its index, verify it (X2, W-F3), and only then
// replace what the DB knows of it, in one transaction. Any failure leaves the DB
// exactly as it was for that repository, so the previous index stays usable.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WaptError, asWaptError } from '../../errors.js';
import type { TrustStore } from '../../crypto/index.js';
import { readPackagesZip } from '../../repo/index.js';
import type { RepoConfig } from '../config.js';
import type { WaptDb } from '../db/index.js';
import type { RepoRow } from '../db/types.js';
import type { AgentLog } from '../runtime.js';
import { indexTrustContext, recordIndexTrust } from './index-trust.js';
import { fetchIndex, type IndexSource } from './source.js';
import { revertRepoToDisk } from './revert.js';
import { verifyIndex, verifyIndexStatement, type RejectedEntry, type VerifiedIndex, type VerifyIndexOptions } from './verify-index.js';
import type { VerifiedStatement } from '../../repo/index.js';
import { trustKeyOf, VerifyCache, verifyCachePath } from './verify-cache.js';

/** What update needs of the runtime (AgentRuntime fits). */
export interface UpdateDeps {
  db: WaptDb;
  trust: TrustStore;
  log: AgentLog;
  /** dbdir: where the entry verification cache lives (absent: no cache). */
  config: { cacheDir: string; repos: RepoConfig[]; dbdir?: string };
}

export interface RepoUpdateResult {
  repo: string;
  url: string;
  status: 'updated' | 'not-modified' | 'failed';
  packages: number;
  rejected: number;
  rejected_entries: RejectedEntry[];
  /** Issue 12 §2: entry signatures checked with RSA this run / answered by the verification cache. */
  verified_entries?: number;
  cached_entries?: number;
  signed: boolean;
  index_version: number | null;
  index_expires: string | null;
  /** When the accepted statement was signed (issue 12 §5: a lagging mirror's index is accepted until it expires; say how old). */
  index_created?: string | null;
  /** repo_rules candidates that failed before `url` served the index, in the order tried. */
  tried?: { url: string; code: string; message: string }[];
  error?: { code: string; message: string; detail: Record<string, unknown> };
}

/** params key of the accepted statement's signing time, per local repository (doctor and a 304 report it). */
export const indexCreatedKey = (local: string) => `index.created.${local}`;

export interface UpdateTarget {
  name: string;
  url: string;
  source: IndexSource;
  allowUnsigned: boolean;
}

/**
 * Reads a Packages zip and runs every check for the repository known locally as `name`
 * (its pins, identity and rollback state); a damaged zip is INDEX_INVALID whatever the zip layer said.
 */
export async function readAndVerify(deps: UpdateDeps, path: string, name: string, allowUnsigned: boolean, now: Date): Promise<VerifiedIndex> {
  const previous = deps.db.repos.get(name);
  const cachePath = deps.config.dbdir ? verifyCachePath(deps.config.dbdir, name) : null;
  let opts: VerifyIndexOptions | undefined;
  let checked: VerifiedStatement | null = null;
  let refusal: unknown;
  let index;
  try {
    index = await readPackagesZip(path, {
      onWarning: (m) => deps.log.warn(m),
      // X2 before the member is held in memory or parsed (issue 9 case 11)
      checkHead: async (head) => {
        try {
          const context = await indexTrustContext(deps.db, deps.config.repos, name, head.statement, previous);
          opts = { trust: deps.trust, previous, allowUnsigned, context, now };
          checked = verifyIndexStatement(head, opts);
          if (cachePath) opts.cache = await VerifyCache.load(cachePath, trustKeyOf(deps.trust, context.signers), (m) => deps.log.warn(m));
        } catch (err) {
          refusal = err;
          throw err;
        }
      },
    });
  } catch (err) {
    const e = asWaptError(err);
    if (err === refusal || e.code === 'INDEX_INVALID' || e.code === 'IO_ERROR') throw e;
    throw new WaptError('INDEX_INVALID', `${path}: the Packages zip is damaged: ${e.message}`, { cause: err });
  }
  const verified = verifyIndex(index, opts!, checked);
  // the verdicts are facts about bytes, true whether or not this index is stored
  await opts!.cache?.save(cachePath!).catch((err: Error) => deps.log.warn(`${cachePath}: verification cache not saved: ${err.message}`));
  return verified;
}

/** Replaces the repository's entries and state in one transaction, then saves the DB. */
export async function storeIndex(
  deps: UpdateDeps,
  target: { name: string; url: string },
  verified: VerifiedIndex,
  meta: { etag: string | null; lastModified: string | null },
  now: Date,
): Promise<RepoUpdateResult> {
  const previous = deps.db.repos.get(target.name);
  const st = verified.statement;
  const row = deps.db.transaction(() => {
    if (st) recordIndexTrust(deps.db, target.name, st);
    if (st) deps.db.params.set(indexCreatedKey(target.name), st.created.toISOString());
    else deps.db.params.delete(indexCreatedKey(target.name));
    const count = deps.db.available.replaceRepo(target.name, verified.accepted);
    return deps.db.repos.put({
      name: target.name,
      url: target.url,
      last_update: now.toISOString(),
      etag: meta.etag,
      last_modified: meta.lastModified,
      // An unsigned index (allowed by policy) keeps the highest version seen, so rollback checks continue.
      index_version: st?.version ?? previous?.index_version ?? null,
      index_signed: st !== null || (previous?.index_signed ?? false),
      index_expires: st ? st.expires.toISOString() : null,
      packages_count: count,
      rejected_count: verified.rejected.length,
    });
  });
  try {
    await deps.db.persist();
  } catch (err) {
    await revertRepoToDisk(deps.db, target, previous).catch(() => undefined); // memory says what the disk says
    throw err;
  }
  // W-F3: rejected entries are reported in the result (WAPT drops them silently).
  if (verified.rejected.length > 0) deps.log.debug(`${target.name}: ${verified.rejected.length} entries rejected`);
  return {
    repo: target.name,
    url: target.url,
    status: 'updated',
    packages: row.packages_count,
    rejected: row.rejected_count,
    rejected_entries: verified.rejected,
    verified_entries: verified.verifiedEntries,
    cached_entries: verified.cachedEntries,
    signed: st !== null,
    index_version: row.index_version,
    index_expires: row.index_expires,
    index_created: st ? st.created.toISOString() : null,
  };
}

function notModified(deps: UpdateDeps, target: UpdateTarget, prev: RepoRow, now: Date): RepoUpdateResult {
  // X2: the server has nothing newer, but what we hold may have expired meanwhile.
  if (prev.index_expires !== null && Date.parse(prev.index_expires) <= now.getTime()) {
    throw new WaptError('INDEX_EXPIRED', `the repository index expired on ${prev.index_expires} and the server offers nothing newer (HTTP 304)`, {
      detail: { expires: prev.index_expires, version: prev.index_version },
    });
  }
  return {
    repo: target.name,
    url: target.url,
    status: 'not-modified',
    packages: deps.db.available.count(target.name),
    rejected: prev.rejected_count,
    rejected_entries: [],
    signed: prev.index_signed,
    index_version: prev.index_version,
    index_expires: prev.index_expires,
    index_created: deps.db.params.get(indexCreatedKey(target.name)) ?? null,
  };
}

/** W-F3 + X2 for one repository; throws on failure (the caller reports it per repository). */
export async function updateRepo(deps: UpdateDeps, target: UpdateTarget, now = new Date()): Promise<RepoUpdateResult> {
  const previous = deps.db.repos.get(target.name);
  const tmpDir = join(deps.config.cacheDir, 'index');
  await mkdir(tmpDir, { recursive: true });
  const fetched = await fetchIndex(target.source, join(tmpDir, `${target.name}.Packages`), previous, target.url);
  try {
    if (fetched.status === 'not-modified') return notModified(deps, target, previous!, now);
    const verified = await readAndVerify(deps, fetched.path!, target.name, target.allowUnsigned, now);
    return await storeIndex(deps, target, verified, fetched, now);
  } finally {
    await fetched.cleanup();
  }
}

/** A failed repository as a summary line (its DB state untouched). */
export function failedResult(target: { name: string; url: string }, err: unknown, previous: RepoRow | undefined): RepoUpdateResult {
  const e = asWaptError(err);
  return {
    repo: target.name,
    url: target.url,
    status: 'failed',
    packages: previous?.packages_count ?? 0,
    rejected: previous?.rejected_count ?? 0,
    rejected_entries: [],
    signed: previous?.index_signed ?? false,
    index_version: previous?.index_version ?? null,
    index_expires: previous?.index_expires ?? null,
    error: { code: e.code, message: e.message, detail: e.detail },
  };
}
