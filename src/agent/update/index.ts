// `update` (W-G3): every configured repository in priority order, then the host
// package (W-F4). One repository failing never touches the others' state.
import { WaptError, asWaptError } from '../../errors.js';
import type { AgentRuntime } from '../runtime.js';
import { pendingSteps, upgradePlan } from '../install/plan.js';
import { HOST_REPO, updateHostPackage } from './host.js';
import { failedResult, updateRepo, type RepoUpdateResult } from './repo.js';
import { sourceForUrl } from './source.js';
import { candidateUrls, hostAddresses } from './repo-rules.js';
import { noRepositoryError } from '../index-health.js';

export { tryFast304, planFast304, FAST_304_FILE } from './fast-304.js';
export { HOST_REPO, isHostPackageName, checkHostPackage, lastAcceptedHostPackage, type AcceptedHostPackage } from './host.js';
export { readAndVerify, storeIndex, updateRepo, failedResult, type RepoUpdateResult, type UpdateDeps, type UpdateTarget } from './repo.js';
export { verifyIndex, isSafeFilename, entryFromControl, type RejectedEntry, type VerifiedIndex } from './verify-index.js';
export { fetchIndex, sourceForUrl, memberUrl, type IndexSource, type FetchedIndex } from './source.js';
export { candidateUrls, servingUrls, hostAddresses } from './repo-rules.js';
export { indexCreatedKey } from './repo.js';

export interface UpdateSummary {
  repos: RepoUpdateResult[];
  /** Entries available across every repository after the update. */
  packages: number;
  /** Steps `upgrade` would run now (install/plan.ts upgradePlan), the count check-upgrades gives. */
  upgradable: number;
  rejected: number;
  failed: number;
}

export interface UpdateOptions {
  /** Only these repository names (default: all, plus the host package). */
  only?: string[];
  now?: Date;
  /** The host's addresses for repo_rules (default: os.networkInterfaces()). */
  hostAddresses?: string[];
}

/** Totals over the DB as it is now (also after a bundle import). */
export function summarize(rt: AgentRuntime, repos: RepoUpdateResult[], now = new Date()): UpdateSummary {
  // the one answer to "what would upgrade do" (install/plan.ts), as check-upgrades gives it
  const pending = pendingSteps(upgradePlan(rt.db, rt.config, now).plan);
  return {
    repos,
    packages: rt.db.available.count(),
    upgradable: pending.length,
    rejected: repos.reduce((n, r) => n + (r.status === 'failed' ? 0 : r.rejected), 0),
    failed: repos.filter((r) => r.status === 'failed').length,
  };
}

export async function runUpdate(rt: AgentRuntime, opts: UpdateOptions = {}): Promise<UpdateSummary> {
  const now = opts.now ?? new Date();
  const cfg = rt.config;
  const names = new Set(opts.only ?? []);
  for (const n of names) {
    if (!cfg.repos.some((r) => r.name === n) && n !== HOST_REPO) {
      throw new WaptError('CONFIG_INVALID', `no repository named ${n} in ${cfg.configPath}`, { detail: { repo: n } });
    }
  }
  const repos = cfg.repos.filter((r) => names.size === 0 || names.has(r.name));
  if (repos.length === 0 && !cfg.hostRepo) {
    throw noRepositoryError(cfg);
  }
  const results: RepoUpdateResult[] = [];
  const addresses = opts.hostAddresses ?? hostAddresses();
  for (const repo of repos) {
    const previous = rt.db.repos.get(repo.name);
    // repo_rules: site mirrors first, repo_url last; each judged as the origin (same local name)
    const tried: NonNullable<RepoUpdateResult['tried']> = [];
    for (const url of candidateUrls(repo, addresses)) {
      try {
        const source = sourceForUrl(url, () => rt.http(repo));
        const res = await updateRepo(rt, { name: repo.name, url, source, allowUnsigned: repo.allowUnsignedIndex }, now);
        results.push(tried.length > 0 ? { ...res, tried } : res);
        break;
      } catch (err) {
        const e = asWaptError(err);
        if (url === repo.url) results.push({ ...failedResult({ name: repo.name, url }, err, previous), ...(tried.length > 0 ? { tried } : {}) });
        else {
          rt.log.warn(`${repo.name}: ${url} failed ([${e.code}] ${e.message}), trying the next candidate`);
          tried.push({ url, code: e.code, message: e.message });
        }
      }
    }
  }
  const host = cfg.hostRepo;
  if (host && (names.size === 0 || names.has(HOST_REPO))) {
    if (!cfg.hostUuid) {
      rt.log.warn('use_hostpackages is set but this host has no UUID (set host_uuid in wapt-get.ini): host package skipped');
    } else {
      try {
        results.push(await updateHostPackage(rt, host, cfg.hostUuid, rt.http(host), now));
      } catch (err) {
        results.push(failedResult(host, err, rt.db.repos.get(HOST_REPO)));
      }
    }
  }
  return summarize(rt, results, now);
}
