// remove plans. Decision (as WAPT's `remove`): no cascade. Only the named packages are
// removed; installed packages that depend on them stay and are named in `warnings`, and
// packages that were pulled in only by them are named too (they may now be unused).
import { WaptError } from '../../errors.js';
import { versionSatisfies, type Catalog } from './catalog.js';
import { installedDepends } from './decide.js';
import { heldError } from './messages.js';
import { orderPlan } from './order.js';
import type { InstalledPkg, Plan, PlanStep, ResolveRequest } from './types.js';
import { parseRequirement } from '../../package/index.js';

export function planRemove(req: ResolveRequest, cat: Catalog, installedList: InstalledPkg[]): Plan {
  const plan: Plan = { install: [], upgrade: [], additional: [], remove: [], skipped: [], unavailable: [], held: [], warnings: [], order: [] };
  const installed = new Map(installedList.map((i) => [i.package, i]));
  const removed = new Set<string>();
  for (const raw of req.names) {
    const r = parseRequirement(raw);
    const inst = installed.get(r.name);
    if (!inst || !versionSatisfies(inst.version, r)) {
      const why = inst ? `${r.name} ${inst.version} is installed, not ${r.raw}` : `${r.name} is not installed`;
      if (req.force) {
        plan.skipped.push({ package: r.name, reason: why });
        continue;
      }
      throw new WaptError('NOT_INSTALLED', why, { detail: { package: r.name, installed: inst?.version ?? null } });
    }
    if (inst.held) throw heldError(r.name, inst.version, 'remove would uninstall it');
    if (removed.has(r.name)) continue;
    removed.add(r.name);
    const step: PlanStep = { action: 'remove', package: r.name, fromVersion: inst.version, reason: 'requested', explicit: true };
    plan.remove.push(step);
  }
  for (const inst of installed.values()) {
    if (removed.has(inst.package)) continue;
    for (const dep of installedDepends(cat, inst)) {
      if (removed.has(dep.name)) plan.warnings.push(`${inst.package} depends on ${dep.name} and stays installed (remove does not cascade)`);
    }
    if (inst.dependsBy && removed.has(inst.dependsBy) && !inst.explicit) {
      plan.warnings.push(`${inst.package} was installed as a dependency of ${inst.dependsBy} and may now be unused`);
    }
  }
  plan.order = orderPlan(
    plan.remove,
    [],
    () => [],
    (name) => installedDepends(cat, installed.get(name)!).map((q) => q.name),
  );
  return plan;
}
