// What the resolver needs from this machine: candidates from the stored index, the
// installed set, and the host Environment. These are stand-ins named after the
// functions the other engineer is writing (src/agent/candidates.ts → candidatesFromDb,
// src/agent/environment.ts → environmentFromConfig); switch to theirs once they land.
import os from 'node:os';
import { parseControl } from '../../package/control.js';
import { WAPT_COMPAT_VERSION } from '../../version.js';
import type { WaptConfig } from '../config.js';
import type { AvailableRow, InstalledRow, WaptDb } from '../db/index.js';
import type { Candidate, Environment, InstalledPkg } from '../resolver/index.js';

/** Expected: `candidatesFromDb(db, config): Candidate[]` in src/agent/candidates.ts. */
export function candidatesFromDb(db: WaptDb, config: WaptConfig): Candidate[] {
  const prio = new Map(config.repos.map((r) => [r.name, r.priority]));
  if (config.hostRepo) prio.set(config.hostRepo.name, Number.MAX_SAFE_INTEGER);
  const out: Candidate[] = [];
  for (const row of db.available.all()) {
    const c = candidateOf(row, prio.get(row.repo) ?? 0);
    if (c) out.push(c);
  }
  return out;
}

function candidateOf(row: AvailableRow, repoPriority: number): Candidate | null {
  try {
    const control = parseControl(row.control, { source: `${row.repo}:${row.filename}` });
    return {
      control,
      repo: row.repo,
      repoPriority,
      filename: row.filename,
      ...(row.size !== null ? { size: row.size } : {}),
      ...(row.sha256 ? { sha256: row.sha256 } : {}),
      ...(row.md5sum ? { md5sum: row.md5sum } : {}),
    };
  } catch {
    return null; // `update` stored it, so this is a bug elsewhere; never block other packages
  }
}

/** Expected: `environmentFromConfig(config, now?): Environment` in src/agent/environment.ts. */
export function environmentFromConfig(config: WaptConfig, now = new Date()): Environment {
  const plat = process.platform === 'win32' ? 'windows' : process.platform === 'darwin' ? 'darwin' : 'linux';
  return {
    architecture: config.architecture,
    maturities: config.maturities,
    locales: config.locales,
    os: plat,
    osVersion: os.release(),
    waptVersion: WAPT_COMPAT_VERSION,
    now,
  };
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
