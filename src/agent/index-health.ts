// "Is the stored index something `upgrade` may act on?" — one answer, asked by
// check-upgrades, upgrade and doctor. Nothing broken may look healthy: with no
// repository, an index never fetched, an expired signed index (X2) or one older than
// index_max_age, "up to date" would be a lie a monitoring check believes for ever.
import { WaptError } from '../errors.js';
import type { RepoConfig, WaptConfig } from './config.js';
import type { RepoRow, WaptDb } from './db/index.js';

export type IndexState = 'ok' | 'never-fetched' | 'expired' | 'stale';

export interface RepoIndexHealth {
  repo: string;
  url: string;
  state: IndexState;
  last_update: string | null;
  index_expires: string | null;
  index_version: number | null;
  packages: number;
  /** Age of the stored index in seconds; null when never fetched. */
  age_s: number | null;
  /** Who served it (a repo_rules mirror or repo_url) and how old its signed statement is (s); null: unsigned or unknown. */
  served_by?: string | null;
  statement_age_s?: number | null;
  message: string;
}

/** The error for "no repository": the --config file that does not exist, else the missing repo_url. */
export function noRepositoryError(config: WaptConfig): WaptError {
  if (config.configExplicit && !config.configFound) {
    return new WaptError('CONFIG_NOT_FOUND', `the config file ${config.configPath} does not exist`, { detail: { path: config.configPath } });
  }
  const where = config.configFound ? `in ${config.configPath}` : `(${config.configPath} does not exist)`;
  return new WaptError('NO_REPOSITORY', `no repository is configured ${where}: set repo_url`, {
    detail: { path: config.configPath, config_found: config.configFound },
  });
}

export function repoIndexHealth(repo: RepoConfig, row: RepoRow | undefined, config: WaptConfig, now: Date): RepoIndexHealth {
  const base = {
    repo: repo.name,
    url: repo.url,
    last_update: row?.last_update ?? null,
    index_expires: row?.index_expires ?? null,
    index_version: row?.index_version ?? null,
    packages: row?.packages_count ?? 0,
  };
  if (!row?.last_update) return { ...base, state: 'never-fetched', age_s: null, message: `the index of ${repo.name} was never fetched` };
  const age_s = Math.round((now.getTime() - Date.parse(row.last_update)) / 1000);
  if (row.index_expires !== null && Date.parse(row.index_expires) <= now.getTime()) {
    return { ...base, state: 'expired', age_s, message: `the stored index of ${repo.name} expired on ${row.index_expires}` };
  }
  if (config.indexMaxAgeMs !== null && age_s * 1000 > config.indexMaxAgeMs) {
    return { ...base, state: 'stale', age_s, message: `the stored index of ${repo.name} is ${age_s} s old, over index_max_age` };
  }
  const expiry = row.index_expires ? `, expires ${row.index_expires}` : ', unsigned (no expiry)';
  return { ...base, state: 'ok', age_s, message: `${repo.name}: ${base.packages} packages, fetched ${row.last_update}${expiry}` };
}

export function indexHealth(db: WaptDb, config: WaptConfig, now = new Date()): RepoIndexHealth[] {
  return config.repos.map((r) => withStatementAge(repoIndexHealth(r, db.repos.get(r.name), config, now), db, now));
}

/** issue 12 §5: a lagging mirror is accepted until its statement expires; doctor says how old it is. */
function withStatementAge(h: RepoIndexHealth, db: WaptDb, now: Date): RepoIndexHealth {
  const created = db.params.get(`index.created.${h.repo}`);
  const served_by = db.repos.get(h.repo)?.url ?? null;
  const statement_age_s = created ? Math.round((now.getTime() - Date.parse(created)) / 1000) : null;
  const extra =
    h.state === 'ok' && served_by !== null ? ` (served by ${served_by}${statement_age_s === null ? '' : `, statement signed ${statement_age_s} s ago`})` : '';
  return { ...h, served_by, statement_age_s, message: h.message + extra };
}

/** Throws the first problem as a stable code; returns the health of every repository otherwise. */
export function requireUsableIndex(db: WaptDb, config: WaptConfig, now = new Date()): RepoIndexHealth[] {
  if (config.repos.length === 0) throw noRepositoryError(config);
  const health = indexHealth(db, config, now);
  const code = { 'never-fetched': 'INDEX_NEVER_FETCHED', expired: 'INDEX_EXPIRED', stale: 'INDEX_STALE' } as const;
  for (const h of health) {
    if (h.state !== 'ok') throw new WaptError(code[h.state], h.message, { detail: { ...h } });
  }
  return health;
}
