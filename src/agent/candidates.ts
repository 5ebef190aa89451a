// DB rows → resolver candidates: each stored control is parsed exactly once here.
import { field, parseControl, parseRequirementList } from '../package/index.js';
import type { InstalledRow, AvailableRow } from './db/types.js';
import type { Candidate, InstalledPkg } from './resolver/types.js';

/** Repository priority by name; unknown names (bundles) rank with the default 0. */
export type PriorityOf = (repo: string) => number;

export function priorityFromRepos(repos: readonly { name: string; priority: number }[]): PriorityOf {
  const map = new Map(repos.map((r) => [r.name, r.priority]));
  return (name) => map.get(name) ?? 0;
}

export function toCandidate(row: AvailableRow, priorityOf: PriorityOf): Candidate {
  return {
    control: parseControl(row.control, { source: `${row.repo}:${row.filename}` }),
    repo: row.repo,
    repoPriority: priorityOf(row.repo),
    filename: row.filename,
    ...(row.size !== null ? { size: row.size } : {}),
    ...(row.sha256 ? { sha256: row.sha256 } : {}),
    ...(row.md5sum ? { md5sum: row.md5sum } : {}),
  };
}

/** Rows whose stored control no longer parses are left out (they were verified when stored). */
export function toCandidates(rows: readonly AvailableRow[], priorityOf: PriorityOf, onWarning?: (m: string) => void): Candidate[] {
  const out: Candidate[] = [];
  for (const row of rows) {
    try {
      out.push(toCandidate(row, priorityOf));
    } catch (err) {
      onWarning?.(`ignoring stored entry ${row.package} ${row.version} of ${row.repo}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** A hold whose hold_until has passed no longer holds. */
export function isHeld(row: Pick<InstalledRow, 'held' | 'hold_until'>, now = new Date()): boolean {
  if (!row.held) return false;
  return row.hold_until === null || Date.parse(row.hold_until) > now.getTime();
}

/**
 * W-G1 DB row → what the resolver needs to know about an installed package: the one
 * conversion every verb uses, so holds (hold_until) and pending removals mean the same
 * everywhere.
 */
export function toInstalledPkg(row: InstalledRow, now = new Date()): InstalledPkg {
  return {
    package: row.package,
    version: row.version,
    status: row.install_status,
    explicit: row.explicit_by !== null,
    held: isHeld(row, now),
    dependsBy: row.depends_by,
    pendingRemoval: row.pending_action === 'remove',
  };
}

/** Everything the DB offers, as candidates ranked by the configured repository priorities. */
export function availableCandidates(
  db: { available: { all(): AvailableRow[] } },
  repos: readonly { name: string; priority: number }[],
  onWarning?: (m: string) => void,
): Candidate[] {
  return toCandidates(db.available.all(), priorityFromRepos(repos), onWarning);
}

/**
 * The candidates named `names` only: what `upgradable` needs for the installed packages,
 * without reading and parsing every row of a 10,000-entry index.
 */
export function candidatesFor(
  db: { available: { forPackages(names: Iterable<string>): AvailableRow[] } },
  names: Iterable<string>,
  repos: readonly { name: string; priority: number }[],
  onWarning?: (m: string) => void,
): Candidate[] {
  return toCandidates(db.available.forPackages(names), priorityFromRepos(repos), onWarning);
}

/**
 * The candidates reachable from `roots` through `depends`: everything a plan over those
 * names can look at, read and parsed for those names only (a 10,000-entry index costs
 * ~200 parses for 200 installed packages instead of 10,000). undefined when a depends
 * names a package by `{uuid}` alone: only the whole index can answer that one.
 */
export function closureCandidates(
  db: { available: { forPackages(names: Iterable<string>): AvailableRow[] } },
  roots: Iterable<string>,
  priorityOf: PriorityOf,
  keep: (c: Candidate) => boolean,
  onWarning?: (m: string) => void,
): Candidate[] | undefined {
  const seen = new Set<string>();
  const out: Candidate[] = [];
  let frontier = [...new Set(roots)].filter((n) => n !== '');
  while (frontier.length > 0) {
    for (const n of frontier) seen.add(n);
    const next = new Set<string>();
    for (const c of toCandidates(db.available.forPackages(frontier), priorityOf, onWarning)) {
      if (!keep(c)) continue;
      out.push(c);
      let reqs;
      try {
        reqs = parseRequirementList(field(c.control, 'depends'));
      } catch {
        continue; // the resolver reports a bad depends of a chosen entry itself
      }
      for (const r of reqs) {
        if (r.name === '') return undefined;
        if (!seen.has(r.name)) next.add(r.name);
      }
    }
    frontier = [...next];
  }
  return out;
}
