// One decision per package name: keep what is installed, install, upgrade or reinstall.
import { isNewer, versionSatisfies, type Catalog } from './catalog.js';
import { isClientTooOld } from './filters.js';
import { heldError, showChain, unsatisfiable, type Constraint } from './messages.js';
import type { Candidate, InstalledPkg } from './types.js';
import { field, parseRequirementList, type Requirement } from '../../package/index.js';
import { WaptError } from '../../errors.js';

/** How a name entered the plan: a request, a host package (W-F4), an installed package being upgraded, a dependency. */
export interface Origin {
  kind: 'request' | 'host' | 'implicit' | 'dependency';
  by?: string;
  /** ['requested'] | ['host package'] | ['installed'] | ['required by X', …X's chain] */
  chain: string[];
}

export interface Decision {
  name: string;
  action: 'keep' | 'install' | 'upgrade' | 'reinstall';
  /** Target version, or the installed one when kept. */
  version: string;
  candidate?: Candidate;
  installed?: InstalledPkg;
  origin: Origin;
  /** A request or dependency requires it (false for an installed package merely looked at by upgrade). */
  needed: boolean;
  reason: string;
}

export interface Removal {
  installed: InstalledPkg;
  by: string;
  req: Requirement;
}

export interface ConflictClaim {
  req: Requirement;
  by: string;
  byVersion: string;
}

export interface Context {
  cat: Catalog;
  installed: Map<string, InstalledPkg>;
  mode: 'install' | 'upgrade';
  force: boolean;
  /** Constraints learnt in earlier passes, intersected with the new ones on the next decision. */
  pinned: Map<string, Constraint[]>;
}

/** Everything one resolution pass builds. decisions/removals/conflictsOn change only through write(). */
export interface PassState {
  decisions: Map<string, Decision>;
  removals: Map<string, Removal>;
  conflictsOn: Map<string, ConflictClaim[]>;
  held: Map<string, string>;
  unavailable: Map<string, string>;
  stack: string[];
  /** Undo log while an implicit upgrade root is walked (a failing root is rolled back). */
  journal: (() => void)[] | null;
}

/** Set (or delete, for undefined) one key, journaled so that rollback() can restore it. */
export function write<K, V>(st: PassState, map: Map<K, V>, key: K, value: V | undefined): void {
  if (st.journal) {
    const had = map.has(key);
    const prev = map.get(key);
    st.journal.push(() => (had ? map.set(key, prev as V) : map.delete(key)));
  }
  if (value === undefined) map.delete(key);
  else map.set(key, value);
}

export function rollback(st: PassState, journal: (() => void)[]): void {
  for (let i = journal.length - 1; i >= 0; i--) journal[i]!();
}

/** W-G2: WAPT retries failed installs on upgrade (§8.1: "or status ERROR (retried)"). */
export const RETRY_STATUSES: ReadonlySet<string> = new Set(['ERROR']);

export function needsRetry(inst: InstalledPkg | undefined): boolean {
  return inst !== undefined && inst.pendingRemoval !== true && RETRY_STATUSES.has(inst.status.trim().toUpperCase());
}

/** Reason of the step that runs a pending removal again (upgrade), see InstalledPkg.pendingRemoval. */
export const RETRY_REMOVAL = 'retry pending removal';

const versionOf = (c: Candidate): string => field(c.control, 'version').trim();

export function reasonFor(origin: Origin): string {
  switch (origin.kind) {
    case 'request':
      return 'requested';
    case 'host':
      return 'host package';
    case 'implicit':
      return 'upgrade';
    case 'dependency':
      return `dependency of ${origin.by}`;
  }
}

/** Depends of an installed package: from the DB row when known, else from its index entry. */
export function installedDepends(cat: Catalog, inst: InstalledPkg): Requirement[] {
  try {
    if (inst.depends !== undefined) return inst.depends.trim() === '' ? [] : parseRequirementList(inst.depends);
    const entry = cat.find(inst.package, inst.version);
    return entry ? cat.depends(entry) : [];
  } catch {
    return []; // a malformed stored depends must not block unrelated work
  }
}

/** Upgrade mode: a newer entry exists but needs a newer wapt-get → say so in `unavailable`. */
function noteTooOld(ctx: Context, st: PassState, name: string, installedVersion: string, reqs: Requirement[]): void {
  const top = ctx.cat.candidates(name).find((c) => ctx.cat.satisfiesAll(c, reqs));
  if (!top || !isNewer(versionOf(top), installedVersion)) return;
  const e = ctx.cat.eligibility(top);
  if (!e.ok && isClientTooOld(e.reason) && !st.unavailable.has(name)) {
    st.unavailable.set(name, `${name} ${versionOf(top)} ${e.reason}`);
  }
}

export function decide(ctx: Context, st: PassState, name: string, constraints: Constraint[], origin: Origin): Decision {
  const { cat } = ctx;
  const inst = ctx.installed.get(name);
  const reqs = constraints.map((c) => c.req);
  const forced = ctx.force && origin.kind === 'request';
  // install keeps a satisfying installed version; upgrade (and --force) take the newest (WAPT forceupgrade).
  // `install NAME` (a bare name) with an older version installed upgrades it, as apt-get does;
  // a satisfied requirement (`install "NAME(>=1)"`) or a dependency is left as it is
  const bareRequest = ctx.mode === 'install' && origin.kind === 'request' && reqs.every((r) => r.op === null);
  const latest = ctx.mode === 'upgrade' || forced || bareRequest;
  const retry = needsRetry(inst);
  const instOk = inst !== undefined && reqs.every((r) => versionSatisfies(inst.version, r));
  const make = (action: Decision['action'], candidate: Candidate | undefined, reason: string): Decision => ({
    name,
    action,
    version: candidate ? versionOf(candidate) : inst!.version,
    candidate,
    installed: inst,
    origin,
    needed: origin.kind !== 'implicit',
    reason,
  });

  if (inst?.held) {
    if (!instOk) {
      const c = constraints.find((k) => !versionSatisfies(inst.version, k.req))!;
      throw heldError(name, inst.version, `${showChain(c)} needs another version`);
    }
    if (forced) throw heldError(name, inst.version, '--force would reinstall it');
    if ((latest || retry) && !st.held.has(name)) {
      const best = cat.best(name, reqs);
      if (best && isNewer(versionOf(best), inst.version)) {
        st.held.set(name, `held at ${inst.version}; ${versionOf(best)} is available`);
      } else if (retry) st.held.set(name, `held at ${inst.version}; its ERROR status is not retried`);
    }
    return make('keep', undefined, `held at ${inst.version}`);
  }

  if (inst?.pendingRemoval && (origin.kind !== 'request' || ctx.mode !== 'install')) {
    // the admin asked to remove it: nothing but an explicit install brings it back
    if (instOk) return make('keep', undefined, `pending removal (${inst.version})`);
    throw new WaptError('UNSATISFIABLE', `${name} ${inst.version} is being removed (pending removal); \`wapt-get install ${name}\` keeps it`, {
      detail: { package: name, pending_action: 'remove' },
    });
  }
  // an explicit install of a package whose removal did not complete re-installs it
  const reinstallPending = inst?.pendingRemoval === true;

  if (instOk && !retry && !forced && !reinstallPending) {
    if (!latest) return make('keep', undefined, `already installed (${inst.version})`);
    noteTooOld(ctx, st, name, inst.version, reqs);
    const best = cat.best(name, reqs);
    if (!best || !isNewer(versionOf(best), inst.version)) {
      return make('keep', undefined, `already at the newest eligible version (${inst.version})`);
    }
    return make('upgrade', best, reasonFor(origin));
  }

  const best = cat.best(name, reqs);
  if (!best) throw unsatisfiable(cat, name, constraints, origin.kind === 'request');
  if (!inst) return make('install', best, reasonFor(origin));
  const reason = retry && origin.kind === 'implicit' ? 'retry after ERROR' : reinstallPending ? 'requested (removal was pending)' : reasonFor(origin);
  const same = !isNewer(versionOf(best), inst.version) && !isNewer(inst.version, versionOf(best));
  return make(same ? 'reinstall' : 'upgrade', best, reason);
}
