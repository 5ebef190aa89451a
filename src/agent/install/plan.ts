// Building the plan of a verb from the local state (pure over what it reads): index
// candidates (+ local .wapt files given on the command line), installed rows, host
// packages (W-F4) and the host environment, handed to the resolver.
import path from 'node:path';
import { field, parseRequirement, parseRequirementList, type VerifiedPackage } from '../../package/index.js';
import type { WaptConfig } from '../config.js';
import type { InstalledRow, WaptDb } from '../db/index.js';
import { toInstalledPkg } from '../candidates.js';
import { resolve, type Candidate, type Environment, type InstalledPkg, type Plan, type PlanStep, type ResolveRequest } from '../resolver/index.js';
import { candidatesForPlan, candidatesFromDb, environmentFromConfig, hostPackageNames } from './sources.js';

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
  const rows = db.installed.list();
  const fromIndex = indexCandidates(db, config, req, local, rows);
  const locals = local.map((p) => {
    const c = localCandidate(p);
    localFiles.set(c, p.file);
    return c;
  });
  const candidates = [...locals, ...fromIndex];
  const installed = rows.map((r) => toInstalledPkg(r, now));
  const env = environmentFromConfig(config, now);
  const full: ResolveRequest = {
    ...req,
    names: [...req.names, ...local.map((p) => `${p.verified.package}(=${p.verified.version})`)],
    ...(req.kind === 'upgrade' && req.names.length === 0 ? { hostPackages: hostPackageNames(config, candidates) } : {}),
  };
  const plan = resolve(full, candidates, installed, env);
  return { plan, candidates, installed, env, localFiles };
}

/**
 * The index entries this plan can reach (issue 12 §3: `upgrade` reads ~200 of 10,000
 * rows). A requested name the index lacks, a `{uuid}` request or depends, or anything
 * unparsable falls back to the whole index, so errors and suggestions stay the same.
 */
function indexCandidates(db: WaptDb, config: WaptConfig, req: ResolveRequest, local: LocalPackage[], rows: InstalledRow[]): Candidate[] {
  let requested: string[];
  try {
    requested = [
      ...req.names.map((n) => parseRequirement(n).name),
      ...local.flatMap((p) => [p.verified.package, ...parseRequirementList(field(p.verified.control, 'depends')).map((r) => r.name)]),
    ];
  } catch {
    return candidatesFromDb(db, config);
  }
  if (requested.includes('')) return candidatesFromDb(db, config);
  const some = candidatesForPlan(db, config, requested, rows);
  if (!some) return candidatesFromDb(db, config);
  const found = new Set(some.map((c) => c.control.get('package') ?? ''));
  const local_ = new Set(local.map((p) => p.verified.package));
  return req.names.every((n) => found.has(parseRequirement(n).name) || local_.has(parseRequirement(n).name)) ? some : candidatesFromDb(db, config);
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
