// Building the plan of a verb from the local state (pure over what it reads): index
// candidates (+ local .wapt files given on the command line), installed rows, host
// packages (W-F4) and the host environment, handed to the resolver.
import path from 'node:path';
import type { VerifiedPackage } from '../../package/index.js';
import type { WaptConfig } from '../config.js';
import type { WaptDb } from '../db/index.js';
import { toInstalledPkg } from '../candidates.js';
import { resolve, type Candidate, type Environment, type InstalledPkg, type Plan, type PlanStep, type ResolveRequest } from '../resolver/index.js';
import { candidatesFromDb, environmentFromConfig, hostPackageNames } from './sources.js';

/** Repository name of candidates made from files given on the command line. */
export const LOCAL_REPO = '(local file)';

export interface PlanContext {
  plan: Plan;
  candidates: Candidate[];
  installed: InstalledPkg[];
  env: Environment;
  /** Candidate → verified local file, for `install FILE.wapt`. */
  localFiles: Map<Candidate, string>;
}

export interface LocalPackage {
  file: string;
  verified: VerifiedPackage;
}

export function localCandidate(p: LocalPackage): Candidate {
  // The highest priority: the file named on the command line is what the person means.
  return { control: p.verified.control, repo: LOCAL_REPO, repoPriority: Number.MAX_SAFE_INTEGER, filename: path.basename(p.file) };
}

export function makePlan(db: WaptDb, config: WaptConfig, req: ResolveRequest, local: LocalPackage[] = [], now = new Date()): PlanContext {
  const localFiles = new Map<Candidate, string>();
  const fromIndex = candidatesFromDb(db, config);
  const locals = local.map((p) => {
    const c = localCandidate(p);
    localFiles.set(c, p.file);
    return c;
  });
  const candidates = [...locals, ...fromIndex];
  const installed = db.installed.list().map((r) => toInstalledPkg(r, now));
  const env = environmentFromConfig(config, now);
  const full: ResolveRequest = {
    ...req,
    names: [...req.names, ...local.map((p) => `${p.verified.package}(=${p.verified.version})`)],
    ...(req.kind === 'upgrade' && req.names.length === 0 ? { hostPackages: hostPackageNames(config, candidates) } : {}),
  };
  const plan = resolve(full, candidates, installed, env);
  return { plan, candidates, installed, env, localFiles };
}

/** Every step that downloads and installs something. */
export function installSteps(plan: Plan) {
  return plan.order.filter((s) => s.action !== 'remove');
}

export function hasWork(plan: Plan): boolean {
  return plan.order.length > 0;
}

/** One piece of work `upgrade` would do, as every verb reports it. */
export interface PendingStep {
  package: string;
  action: PlanStep['action'];
  from: string | null;
  to: string | null;
  reason: string;
  repo: string | null;
  filename: string | null;
}

/**
 * THE answer to "what would `upgrade` do" (W-G3): newer eligible versions, host packages
 * (W-F4), ERROR rows retried, pending removals run again; holds (with hold_until), pins
 * and conflicts as the resolver decides them. `upgrade`, `check-upgrades`,
 * `list-upgrade`, `download-upgrade`, `clean` and the `update` summary all ask this.
 */
export function upgradePlan(db: WaptDb, config: WaptConfig, now = new Date()): PlanContext {
  return makePlan(db, config, { kind: 'upgrade', names: [] }, [], now);
}

/** Every step of the plan, in execution order: what "N upgradable / pending" counts. */
export function pendingSteps(plan: Plan): PendingStep[] {
  return plan.order.map((s) => ({
    package: s.package,
    action: s.action,
    from: s.fromVersion ?? null,
    to: s.action === 'remove' ? null : (s.toVersion ?? null),
    reason: s.reason,
    repo: s.candidate?.repo ?? null,
    filename: s.candidate?.filename ?? null,
  }));
}
