// Runs a plan in its order (removals, then dependencies before dependents, W-G2): each
// package is fetched and verified, then installed in its own transaction. A package
// whose dependency failed in this run is not attempted (recorded ERROR, retried later).
import { WaptError, asWaptError } from '../../errors.js';
import type { TrustStore } from '../../crypto/index.js';
import { parseRequirementList } from '../../package/index.js';
import type { WaptDb } from '../db/index.js';
import type { Plan, PlanStep } from '../resolver/index.js';
import { obtainOpenVerified, obtainVerified, openVerifiedLocal, type FetchDeps, type OpenVerified } from './fetch.js';
import { removePackage } from './remove.js';
import { installPackage, recordFailure, type StepResult, type TransactionDeps } from './transaction.js';

export interface ExecuteHooks {
  /** Before each step: `[i/n]` lines. */
  onStep?: (index: number, total: number, step: PlanStep) => void;
  onResult?: (result: StepResult) => void;
}

export interface ExecuteDeps extends Omit<TransactionDeps, 'db'>, ExecuteHooks {
  db: WaptDb;
  trust: TrustStore;
  fetch: FetchDeps;
  localFiles: Map<unknown, string>;
}

function dependsOf(step: PlanStep): string[] {
  try {
    return step.candidate ? parseRequirementList(step.candidate.control.get('depends') ?? '').map((r) => r.name) : [];
  } catch {
    return [];
  }
}

export async function executePlan(plan: Plan, deps: ExecuteDeps): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const failed = new Set<string>();
  const total = plan.order.length;
  for (const [i, step] of plan.order.entries()) {
    deps.onStep?.(i + 1, total, step);
    const r = await runStep(step, deps, failed);
    if (r.status === 'ERROR') failed.add(step.package);
    results.push(r);
    deps.onResult?.(r);
    if (r.error_code === 'DB_ERROR') break; // nothing more could be recorded: stop before any other package runs
  }
  return results;
}

async function runStep(step: PlanStep, deps: ExecuteDeps, failed: Set<string>): Promise<StepResult> {
  const { db } = deps;
  if (step.action === 'remove') {
    const row = db.installed.get(step.package);
    if (!row) return { package: step.package, version: step.fromVersion ?? '', action: 'remove', status: 'REMOVED' };
    return removePackage(row, deps);
  }
  const brokenDep = dependsOf(step).find((d) => failed.has(d));
  if (brokenDep) {
    const err = new WaptError('UNSATISFIABLE', `not installed: its dependency ${brokenDep} failed in this run`, { detail: { dependency: brokenDep } });
    return recordFailure(db, step, deps.user, err);
  }
  let got: OpenVerified;
  try {
    const local = step.candidate ? deps.localFiles.get(step.candidate) : undefined;
    // Issue 8 §5: verified through the handle that is extracted from. A local file is our
    // private copy (stageLocal); the one the person gave is never deleted, only refused.
    got = local ? await openVerifiedLocal(local, deps.trust) : await obtainOpenVerified(step.candidate!, deps.fetch);
  } catch (err) {
    return recordFailure(db, step, deps.user, asWaptError(err));
  }
  try {
    return await installPackage(step, got.zip, got.verified, deps);
  } finally {
    got.zip.close();
  }
}

/** download-upgrade: every install step fetched and verified into the cache; nothing installed. */
export async function downloadPlan(plan: Plan, fetch: FetchDeps, hooks: ExecuteHooks = {}): Promise<StepResult[]> {
  const steps = plan.order.filter((s) => s.action !== 'remove');
  const results: StepResult[] = [];
  for (const [i, step] of steps.entries()) {
    hooks.onStep?.(i + 1, steps.length, step);
    const version = step.toVersion ?? '';
    let r: StepResult;
    try {
      await obtainVerified(step.candidate!, fetch);
      r = { package: step.package, version, action: step.action, status: 'DOWNLOADED' };
    } catch (err) {
      const e = asWaptError(err);
      r = { package: step.package, version, action: step.action, status: 'ERROR', error_code: e.code, message: e.message };
    }
    results.push(r);
    hooks.onResult?.(r);
  }
  return results;
}
