// install / upgrade plans: walk the roots, learn constraints, re-run until every constraint
// on every name holds, then sort the decisions into WAPT's plan categories (W-G2).
import { WaptError } from '../../errors.js';
import { versionSatisfies, type Catalog } from './catalog.js';
import { installedDepends, needsRetry, RETRY_REMOVAL, rollback, type Context, type Decision, type Origin, type PassState } from './decide.js';
import { nameOnly, showChain, unsatisfiable, type Constraint } from './messages.js';
import { orderPlan } from './order.js';
import type { InstalledPkg, Plan, PlanStep, ResolveRequest } from './types.js';
import { Restart, visit } from './visit.js';
import { parseRequirement } from '../../package/index.js';

interface Root {
  name: string;
  constraint: Constraint;
  origin: Origin;
  /** Implicit upgrade roots: a failure makes this root `unavailable` instead of failing the plan. */
  tolerant: boolean;
}

function rootsOf(req: ResolveRequest, cat: Catalog, installed: Map<string, InstalledPkg>): Root[] {
  const requested = (raw: string): Root => {
    const r = cat.named(parseRequirement(raw));
    if (r.name === '') {
      throw new WaptError('PACKAGE_NOT_FOUND', `no package with package_uuid ${r.packageUuid} in the repositories`, { detail: { request: raw } });
    }
    const chain = ['requested'];
    return { name: r.name, constraint: { req: r, chain }, origin: { kind: 'request', chain }, tolerant: false };
  };
  if (req.kind === 'install') return req.names.map(requested);
  if (req.names.length > 0) {
    return req.names.map((raw) => {
      const root = requested(raw);
      if (!installed.has(root.name)) {
        throw new WaptError('NOT_INSTALLED', `${root.name} is not installed; use install to add it`, { detail: { package: root.name } });
      }
      return root;
    });
  }
  // W-G3 upgrade: host packages (W-F4) as explicit requests, then every installed package.
  const hosts = (req.hostPackages ?? []).map((name): Root => {
    const chain = ['host package'];
    return { name, constraint: { req: nameOnly(name), chain }, origin: { kind: 'host', chain }, tolerant: true };
  });
  const names = [...installed.keys()].sort();
  const implicit = names.map((name): Root => {
    const chain = [needsRetry(installed.get(name)) ? 'installed (status ERROR)' : 'installed'];
    return { name, constraint: { req: nameOnly(name), chain }, origin: { kind: 'implicit', chain }, tolerant: true };
  });
  return [...hosts, ...implicit];
}

function runPass(ctx: Context, roots: Root[]): PassState {
  const st: PassState = {
    decisions: new Map(),
    removals: new Map(),
    conflictsOn: new Map(),
    held: new Map(),
    unavailable: new Map(),
    stack: [],
    journal: null,
  };
  for (const root of roots) {
    if (!root.tolerant) {
      visit(ctx, st, root.name, root.constraint, root.origin);
      continue;
    }
    const journal: (() => void)[] = [];
    st.journal = journal;
    try {
      visit(ctx, st, root.name, root.constraint, root.origin);
    } catch (e) {
      if (!(e instanceof WaptError)) throw e; // Restart and bugs propagate
      rollback(st, journal);
      st.stack = [];
      st.unavailable.set(root.name, e.message);
      if (e.code === 'PACKAGE_HELD') st.held.set(String(e.detail.package), String(e.detail.reason));
    } finally {
      st.journal = null;
    }
  }
  return st;
}

/**
 * An installed package the plan leaves alone must keep a dependency version it accepts:
 * a changed dependency that no longer satisfies its (previously satisfied) requirement
 * becomes one more constraint for the next pass.
 */
function brokenInstalled(ctx: Context, st: PassState): Restart | null {
  for (const inst of ctx.installed.values()) {
    const own = st.decisions.get(inst.package);
    if (st.removals.has(inst.package) || (own && own.action !== 'keep')) continue;
    for (const req of installedDepends(ctx.cat, inst)) {
      const dep = st.decisions.get(req.name);
      const before = ctx.installed.get(req.name);
      if (!dep || dep.action === 'keep' || !before) continue;
      if (!versionSatisfies(dep.version, req) && versionSatisfies(before.version, req)) {
        return new Restart(req.name, { req, chain: [`required by ${inst.package}`, 'installed'] });
      }
    }
  }
  return null;
}

function pin(ctx: Context, r: Restart): void {
  const pins = ctx.pinned.get(r.name) ?? [];
  if (pins.some((p) => showChain(p) === showChain(r.constraint))) {
    // no progress possible: report every constraint met so far on this name
    throw unsatisfiable(ctx.cat, r.name, pins, false);
  }
  ctx.pinned.set(r.name, [...pins, r.constraint]);
}

function stepOf(d: Decision): PlanStep {
  // an explicitly installed package stays explicit when a dependency pulls its upgrade (W-G1 explicit_by)
  const explicit = d.origin.kind === 'request' || d.origin.kind === 'host' || (d.installed?.explicit ?? false);
  return {
    action: d.action as PlanStep['action'],
    package: d.name,
    ...(d.installed ? { fromVersion: d.installed.version } : {}),
    toVersion: d.version,
    candidate: d.candidate!,
    reason: d.reason,
    explicit,
  };
}

/**
 * W-G3 upgrade (implicit, no names): a removal the admin asked for that did not complete
 * is run again, unless the package is held now (held: never removed by any path).
 */
function pendingRemovals(ctx: Context, st: PassState, implicit: boolean): PlanStep[] {
  if (ctx.mode !== 'upgrade' || !implicit) return [];
  const steps: PlanStep[] = [];
  for (const inst of [...ctx.installed.values()].sort((a, b) => a.package.localeCompare(b.package))) {
    if (!inst.pendingRemoval || st.removals.has(inst.package)) continue;
    if (inst.held) {
      st.held.set(inst.package, `held at ${inst.version}; its pending removal waits until it is unheld`);
      continue;
    }
    steps.push({ action: 'remove', package: inst.package, fromVersion: inst.version, reason: RETRY_REMOVAL, explicit: true });
  }
  return steps;
}

function buildPlan(ctx: Context, st: PassState, implicit: boolean): Plan {
  const plan: Plan = { install: [], upgrade: [], additional: [], remove: [], skipped: [], unavailable: [], held: [], warnings: [], order: [] };
  for (const d of st.decisions.values()) {
    if (d.action === 'keep') {
      if (d.origin.kind === 'request' || d.origin.kind === 'host') plan.skipped.push({ package: d.name, reason: d.reason });
      continue;
    }
    const step = stepOf(d);
    if (d.installed) plan.upgrade.push(step);
    else if (step.explicit) plan.install.push(step);
    else plan.additional.push(step);
  }
  for (const [name, r] of st.removals) {
    plan.remove.push({ action: 'remove', package: name, fromVersion: r.installed.version, reason: `conflicts with ${r.by}`, explicit: false });
    for (const inst of ctx.installed.values()) {
      if (inst.package === name || st.removals.has(inst.package)) continue;
      if (installedDepends(ctx.cat, inst).some((q) => q.name === name)) {
        plan.warnings.push(`${inst.package} depends on ${name}, which is removed because ${r.by} conflicts with it`);
      }
    }
  }
  plan.remove.push(...pendingRemovals(ctx, st, implicit));
  plan.held = [...st.held].map(([pkg, reason]) => ({ package: pkg, reason }));
  plan.unavailable = [...st.unavailable].map(([request, reason]) => ({ request, reason }));
  const installs = [...plan.install, ...plan.upgrade, ...plan.additional];
  plan.order = orderPlan(
    plan.remove,
    installs,
    (s) => ctx.cat.depends(s.candidate!).map((q) => q.name),
    (name) => installedDepends(ctx.cat, ctx.installed.get(name)!).map((q) => q.name),
  );
  return plan;
}

export function planInstallOrUpgrade(req: ResolveRequest, cat: Catalog, installedList: InstalledPkg[]): Plan {
  const installed = new Map(installedList.map((i) => [i.package, i]));
  const ctx: Context = { cat, installed, mode: req.kind === 'upgrade' ? 'upgrade' : 'install', force: req.force === true, pinned: new Map() };
  const roots = rootsOf(req, cat, installed);
  // Each restart adds one constraint not seen before, so this ends; the bound is a safety net.
  const limit = 1000 + roots.length * 10;
  for (let pass = 0; pass < limit; pass++) {
    try {
      const st = runPass(ctx, roots);
      const broken = brokenInstalled(ctx, st);
      if (broken) throw broken;
      return buildPlan(ctx, st, req.names.length === 0);
    } catch (e) {
      if (!(e instanceof Restart)) throw e;
      pin(ctx, e);
    }
  }
  throw new WaptError('INTERNAL', `dependency resolution did not settle after ${limit} passes`);
}
