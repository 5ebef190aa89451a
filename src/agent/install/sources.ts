// What the resolver needs from this machine: candidates from the stored index
// (candidates.ts), the installed set (holds honour hold_until), the host Environment
// (environment.ts) and the host/profile packages that apply (W-F4).
import { availableCandidates, closureCandidates, isHeld, priorityFromRepos, toInstalledPkg } from '../candidates.js';
import type { WaptConfig } from '../config.js';
import type { InstalledRow, WaptDb } from '../db/index.js';
import { hostEnvironment } from '../environment.js';
import { HOST_REPO, isHostPackageName } from '../update/host.js';
import type { Candidate, Environment, InstalledPkg } from '../resolver/index.js';

/** Repositories by priority; the host repository outranks the others for the host's own package. */
function rankedRepos(config: WaptConfig): readonly { name: string; priority: number }[] {
  return config.hostRepo ? [...config.repos, { name: config.hostRepo.name, priority: Number.MAX_SAFE_INTEGER }] : config.repos;
}

/**
 * Issue 8 §3: from the host repository only this host's own package is a candidate, so
 * it never stands in for another name (update refuses such a file; a row stored by an
 * older wapt-get is ignored here).
 */
function hostRule(config: WaptConfig): (c: Candidate) => boolean {
  return (c) => c.repo !== HOST_REPO || isHostPackageName(c.control.get('package') ?? '', config.hostUuid);
}

export function candidatesFromDb(db: WaptDb, config: WaptConfig, onWarning?: (m: string) => void): Candidate[] {
  return availableCandidates(db, rankedRepos(config), onWarning).filter(hostRule(config));
}

/**
 * The candidates a plan over `names` (plus every installed package and the host packages,
 * W-F4) can reach through depends: the same answer as candidatesFromDb for that plan,
 * without parsing the whole index. undefined when only the whole index can answer.
 */
export function candidatesForPlan(
  db: WaptDb,
  config: WaptConfig,
  names: Iterable<string>,
  installed: readonly InstalledRow[],
  onWarning?: (m: string) => void,
): Candidate[] | undefined {
  const roots = [...names, ...installed.map((r) => r.package), ...(config.hostUuid ? [config.hostUuid] : []), ...config.hostProfiles];
  return closureCandidates(db, roots, priorityFromRepos(rankedRepos(config)), hostRule(config), onWarning);
}

export function environmentFromConfig(config: WaptConfig, now = new Date()): Environment {
  return hostEnvironment(config, { now });
}

/** DB rows → resolver input (candidates.ts toInstalledPkg: hold_until, pending removals). */
export function installedPkgs(rows: InstalledRow[], now = new Date()): InstalledPkg[] {
  return rows.map((r) => toInstalledPkg(r, now));
}

export { isHeld };

/** W-F4: host, unit and profile packages that apply to this machine and are in the index. */
export function hostPackageNames(config: WaptConfig, candidates: Candidate[]): string[] {
  const names = new Set(candidates.map((c) => c.control.get('package') ?? ''));
  const wanted = [...(config.hostUuid ? [config.hostUuid] : []), ...config.hostProfiles];
  return wanted.filter((n) => names.has(n));
}
