// The available entries indexed once by name, sorted best first, with per-entry caches
// (parsed version, eligibility, depends/conflicts). Pure; built once per (list, env).
import { eligible, list, meetsRestrictions } from './filters.js';
import type { Candidate, Eligibility, Environment } from './types.js';
import { field, parseRequirementList, satisfies, compareVersions, parseVersion, type Requirement, type WaptVersion } from '../../package/index.js';

/** Why one entry sorts before an equal-version one (for explain()). */
export type TieBreak = 'host preference' | 'signature_date' | 'repository priority' | 'none';

export class Catalog {
  private readonly byName = new Map<string, Candidate[]>();
  private readonly sortedNames = new Set<string>();
  private readonly versions = new Map<Candidate, WaptVersion | null>();
  private readonly eligibilities = new Map<Candidate, Eligibility>();
  private readonly dependsCache = new Map<Candidate, Requirement[]>();
  private readonly conflictsCache = new Map<Candidate, Requirement[]>();

  /** Length of the list it was built from (a cache built on a list that grew since is rebuilt). */
  readonly size: number;

  constructor(
    available: readonly Candidate[],
    readonly env: Environment,
  ) {
    this.size = available.length;
    for (const c of available) {
      const name = field(c.control, 'package').trim();
      const group = this.byName.get(name);
      if (group) group.push(c);
      else this.byName.set(name, [c]);
    }
  }

  private uuids: Map<string, string> | null = null;

  /** Package name of the entry carrying this `package_uuid` (WAPT 2 `{uuid}` requests), or ''. */
  nameOfUuid(uuid: string): string {
    if (!this.uuids) {
      this.uuids = new Map();
      for (const [name, group] of this.byName) {
        for (const c of group) {
          const u = field(c.control, 'package_uuid').trim().toLowerCase();
          if (u !== '') this.uuids.set(u, name);
        }
      }
    }
    return this.uuids.get(uuid.toLowerCase()) ?? '';
  }

  /** A `{uuid}` requirement gets the name of the entry it designates (name stays '' when unknown). */
  named(req: Requirement): Requirement {
    return req.packageUuid && req.name === '' ? { ...req, name: this.nameOfUuid(req.packageUuid) } : req;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** W-B1: parsed once; null when the entry's version is invalid (such entries are never chosen). */
  version(c: Candidate): WaptVersion | null {
    let v = this.versions.get(c);
    if (v === undefined) {
      try {
        v = parseVersion(field(c.control, 'version'));
      } catch {
        v = null;
      }
      this.versions.set(c, v);
    }
    return v;
  }

  eligibility(c: Candidate): Eligibility {
    let e = this.eligibilities.get(c);
    if (!e) {
      e = eligible(c, this.env);
      this.eligibilities.set(c, e);
    }
    return e;
  }

  depends(c: Candidate): Requirement[] {
    return this.cachedList(this.dependsCache, c, 'depends');
  }

  conflicts(c: Candidate): Requirement[] {
    return this.cachedList(this.conflictsCache, c, 'conflicts');
  }

  private cachedList(cache: Map<Candidate, Requirement[]>, c: Candidate, key: string): Requirement[] {
    let r = cache.get(c);
    if (!r) {
      const text = field(c.control, key).trim();
      r = text === '' ? [] : parseRequirementList(text).map((q) => this.named(q));
      cache.set(c, r);
    }
    return r;
  }

  /** Every entry of `name`, best first (see compare()); sorted lazily, once. */
  candidates(name: string): Candidate[] {
    const group = this.byName.get(name);
    if (!group) return [];
    if (!this.sortedNames.has(name)) {
      group.sort((a, b) => this.compare(a, b));
      this.sortedNames.add(name);
    }
    return group;
  }

  /**
   * Best first: W-B4 version (invalid versions last); then the host's preference as WAPT's
   * PackageRequest.compare_packages (an entry made for this architecture / an earlier host
   * locale beats `all`); then W-B4b later signature_date; then higher repository priority.
   */
  compare(a: Candidate, b: Candidate): number {
    const va = this.version(a);
    const vb = this.version(b);
    if (!va || !vb) return va ? -1 : vb ? 1 : 0;
    const byVersion = compareVersions(vb, va);
    if (byVersion !== 0) return byVersion;
    return this.tieBreak(a, b)[0];
  }

  /** Order of two W-B4-equal entries and the criterion that decided it. */
  tieBreak(a: Candidate, b: Candidate): [number, TieBreak] {
    const pref = this.preference(b) - this.preference(a);
    if (pref !== 0) return [pref, 'host preference'];
    const sa = field(a.control, 'signature_date');
    const sb = field(b.control, 'signature_date');
    if (sa !== sb) return [sa < sb ? 1 : -1, 'signature_date'];
    if (a.repoPriority !== b.repoPriority) return [b.repoPriority - a.repoPriority, 'repository priority'];
    return [0, 'none'];
  }

  /** Higher is better: architecture-specific beats `all`, an earlier host locale beats a later one or `all`. */
  private preference(c: Candidate): number {
    const arch = field(c.control, 'architecture').trim().toLowerCase();
    const archScore = arch !== '' && arch !== 'all' ? 1 : 0;
    const host = this.env.locales.map((l) => l.trim().toLowerCase());
    const positions = list(field(c.control, 'locale'))
      .map((l) => host.indexOf(l))
      .filter((i) => i >= 0);
    const localeScore = positions.length > 0 ? host.length - Math.min(...positions) : 0;
    return archScore * 1000 + localeScore;
  }

  /** True when `c` has a valid version satisfying every requirement (version and W-B5 restrictions). */
  satisfiesAll(c: Candidate, reqs: readonly Requirement[]): boolean {
    const v = this.version(c);
    if (!v) return false;
    return reqs.every((r) => versionSatisfies(v.raw, r) && meetsRestrictions(c, r));
  }

  /** The highest eligible entry of `name` satisfying all `reqs`, or null. */
  best(name: string, reqs: readonly Requirement[]): Candidate | null {
    for (const c of this.candidates(name)) {
      if (this.satisfiesAll(c, reqs) && this.eligibility(c).ok) return c;
    }
    return null;
  }

  /** The entry with exactly this W-B4 version (the installed one), preferring eligible ones. */
  find(name: string, version: string): Candidate | null {
    let wanted: WaptVersion;
    try {
      wanted = parseVersion(version);
    } catch {
      return null;
    }
    const same = this.candidates(name).filter((c) => {
      const v = this.version(c);
      return v !== null && compareVersions(v, wanted) === 0;
    });
    return same.find((c) => this.eligibility(c).ok) ?? same[0] ?? null;
  }
}

/** satisfies() that treats an unparsable version as not satisfying instead of throwing. */
export function versionSatisfies(version: string, req: Requirement): boolean {
  try {
    return satisfies(version, req);
  } catch {
    return false;
  }
}

/** a > b under W-B4; false when either does not parse. */
export function isNewer(a: string | WaptVersion, b: string | WaptVersion): boolean {
  try {
    return compareVersions(a, b) > 0;
  } catch {
    return false;
  }
}

// One catalog per (available list, env) pair: chooseBest/explain called repeatedly on the
// same list reuse the index instead of rebuilding it.
const cache = new WeakMap<readonly Candidate[], Catalog>();

export function catalogFor(available: readonly Candidate[], env: Environment): Catalog {
  const hit = cache.get(available);
  if (hit && hit.env === env && hit.size === available.length) return hit;
  const cat = new Catalog(available, env);
  cache.set(available, cat);
  return cat;
}
