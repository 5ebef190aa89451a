// Runs a plan in its order (removals, then dependencies before dependents, W-G2): each
// package is fetched and verified (downloads run ahead, max_parallel_downloads at a
// time), then installed in its own transaction, one at a time. A package
// whose dependency failed in this run is not attempted (recorded ERROR, retried later).
import { WaptError, asWaptError } from '../../errors.js';
import type { TrustStore } from '../../crypto/index.js';
import { parseRequirementList } from '../../package/index.js';
import type { WaptDb } from '../db/index.js';
import type { Plan, PlanStep } from '../resolver/index.js';
import { obtainOpenVerified, obtainVerified, openVerifiedLocal, type FetchDeps, type OpenVerified } from './fetch.js';
import { runLimited, type Settled } from './parallel.js';
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

/** Steps whose package comes from a repository: downloaded ahead, max_parallel_downloads at a time. */
function needsDownload(step: PlanStep, deps: ExecuteDeps): boolean {
  return step.action !== 'remove' && step.candidate !== undefined && !deps.localFiles.has(step.candidate);
}

export async function executePlan(plan: Plan, deps: ExecuteDeps): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const failed = new Set<string>();
  const total = plan.order.length;
  // Issue 12 §4: the downloads run ahead in parallel; installs wait, in plan order, for theirs.
  const toFetch = plan.order.filter((s) => needsDownload(s, deps));
  const pool = runLimited(toFetch, deps.fetch.rt.config.maxParallelDownloads, (s) => obtainOpenVerified(s.candidate!, deps.fetch));
  const fetched = new Map(toFetch.map((s, i) => [s, i] as const));
  const taken = new Set<number>();
  const download = (step: PlanStep) => {
    const i = fetched.get(step)!;
    taken.add(i);
    return pool.result(i);
  };
  try {
    for (const [i, step] of plan.order.entries()) {
      deps.onStep?.(i + 1, total, step);
      const r = await runStep(step, deps, failed, download);
      if (r.status === 'ERROR') failed.add(step.package);
      results.push(r);
      deps.onResult?.(r);
      if (r.error_code === 'DB_ERROR') break; // nothing more could be recorded: stop before any other package runs
    }
  } finally {
    // Handles of downloads no step used (a failed dependency, a stop): closed; the files stay cached.
    pool.stop(new WaptError('INTERNAL', 'not downloaded: the run stopped'));
    await pool.drained();
    for (const i of toFetch.keys()) {
      if (taken.has(i)) continue;
      const got = await pool.result(i);
      if (got.ok) got.value.zip.close();
    }
  }
  return results;
}

async function runStep(
  step: PlanStep,
  deps: ExecuteDeps,
  failed: Set<string>,
  download: (step: PlanStep) => Promise<Settled<OpenVerified>>,
): Promise<StepResult> {
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
    if (local) got = await openVerifiedLocal(local, deps.trust);
    else {
      const settled = await download(step);
      if (!settled.ok) throw settled.error;
      got = settled.value;
    }
  } catch (err) {
    return recordFailure(db, step, deps.user, asWaptError(err));
  }
  try {
    return await installPackage(step, got.zip, got.verified, deps);
  } finally {
    got.zip.close();
  }
}

/**
 * download-upgrade: every install step fetched and verified into the cache, max_parallel_downloads
 * at a time; nothing installed. Results (and onResult) in plan order.
 */
export async function downloadPlan(plan: Plan, fetch: FetchDeps, hooks: ExecuteHooks = {}): Promise<StepResult[]> {
  const steps = plan.order.filter((s) => s.action !== 'remove');
  const pool = runLimited(steps, fetch.rt.config.maxParallelDownloads, async (step, i) => {
    hooks.onStep?.(i + 1, steps.length, step);
    return obtainVerified(step.candidate!, fetch);
  });
  const results: StepResult[] = [];
  for (const [i, step] of steps.entries()) {
    const version = step.toVersion ?? '';
    const got = await pool.result(i);
    let r: StepResult;
    if (got.ok) r = { package: step.package, version, action: step.action, status: 'DOWNLOADED' };
    else {
      const e = asWaptError(got.error);
      r = { package: step.package, version, action: step.action, status: 'ERROR', error_code: e.code, message: e.message };
    }
    results.push(r);
    hooks.onResult?.(r);
  }
  return results;
}
