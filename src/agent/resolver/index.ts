// The pure dependency resolver: objects in, plan out (W-B4, W-C4, W-F4, W-G2). No I/O.
import { catalogFor } from './catalog.js';
import { planInstallOrUpgrade } from './plan.js';
import { planRemove } from './remove.js';
import type { Candidate, Environment, InstalledPkg, Plan, ResolveRequest } from './types.js';

export type { Candidate, Eligibility, Environment, InstalledPkg, Plan, PlanStep, ResolveRequest } from './types.js';
export { eligible } from './filters.js';
export { chooseBest, explain } from './query.js';

/**
 * Plan an install, upgrade or remove. Throws WaptError PACKAGE_NOT_FOUND (unknown requested
 * name), UNSATISFIABLE / CLIENT_TOO_OLD (with the requirement chain), CONFLICT,
 * DEPENDENCY_CYCLE, PACKAGE_HELD, NOT_INSTALLED (remove/upgrade of a name not installed).
 * An implicit upgrade (names = []) never fails for one package: it lists it in `unavailable`.
 */
export function resolve(req: ResolveRequest, available: Candidate[], installed: InstalledPkg[], env: Environment): Plan {
  const cat = catalogFor(available, env);
  return req.kind === 'remove' ? planRemove(req, cat, installed) : planInstallOrUpgrade(req, cat, installed);
}
