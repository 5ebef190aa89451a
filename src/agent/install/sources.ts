// What the resolver needs from this machine: candidates from the stored index
// (candidates.ts), the installed set (holds honour hold_until), the host Environment
// (environment.ts) and the host/profile packages that apply (W-F4).
import { availableCandidates } from '../candidates.js';
import type { WaptConfig } from '../config.js';
import type { InstalledRow, WaptDb } from '../db/index.js';
import { hostEnvironment } from '../environment.js';
import type { Candidate, Environment, InstalledPkg } from '../resolver/index.js';

export function candidatesFromDb(db: WaptDb, config: WaptConfig, onWarning?: (m: string) => void): Candidate[] {
  // the host repository outranks the others for the host's own package
  const repos = config.hostRepo ? [...config.repos, { name: config.hostRepo.name, priority: Number.MAX_SAFE_INTEGER }] : config.repos;
  return availableCandidates(db, repos, onWarning);
}

export function environmentFromConfig(config: WaptConfig, now = new Date()): Environment {
  return hostEnvironment(config, { now });
}

/** DB rows → resolver input. A held row whose hold_until has passed is no longer held. */
export function installedPkgs(rows: InstalledRow[], now = new Date()): InstalledPkg[] {
  return rows.map((r) => ({
    package: r.package,
    version: r.version,
    status: r.install_status,
    explicit: r.explicit_by !== null,
    held: isHeld(r, now),
    dependsBy: r.depends_by,
  }));
}

export function isHeld(r: InstalledRow, now = new Date()): boolean {
  if (!r.held) return false;
  return r.hold_until === null || Date.parse(r.hold_until) > now.getTime();
}

/** W-F4: host, unit and profile packages that apply to this machine and are in the index. */
export function hostPackageNames(config: WaptConfig, candidates: Candidate[]): string[] {
  const names = new Set(candidates.map((c) => c.control.get('package') ?? ''));
  const wanted = [...(config.hostUuid ? [config.hostUuid] : []), ...config.hostProfiles];
  return wanted.filter((n) => names.has(n));
}
