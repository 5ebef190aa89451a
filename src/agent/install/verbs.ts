// install, upgrade, remove, forget (W-G3): plan, print, check rights, run. Each returns
// the plan and per-package results; the CLI only renders them.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { WaptError } from '../../errors.js';
import type { WaptConfig } from '../config.js';
import type { AgentRuntime } from '../runtime.js';
import { executePlan } from './execute.js';
import { stageLocal, verifyLocal, type StagedLocal } from './fetch.js';
import { hasWork, makePlan, type LocalPackage, type PlanContext } from './plan.js';
import { planJson } from './report.js';
import { targetFor } from './rights.js';
import { currentUser, exitFor, fetchDepsOf, withRuntime, type VerbIo, type VerbOptions, type VerbOutcome } from './session.js';
import { isHeld } from './sources.js';
import { requireUsableIndex } from '../index-health.js';

/** `install` arguments that name an existing file ending in .wapt are local packages. */
async function splitArgs(args: string[], cwd: string): Promise<{ names: string[]; files: string[] }> {
  const names: string[] = [];
  const files: string[] = [];
  for (const a of args) {
    const abs = path.resolve(cwd, a);
    const isFile =
      a.toLowerCase().endsWith('.wapt') &&
      (await stat(abs).then(
        (s) => s.isFile(),
        () => false,
      ));
    if (isFile) files.push(abs);
    else if (a.toLowerCase().endsWith('.wapt') && /[\\/]/.test(a)) throw new WaptError('IO_ERROR', `${a}: no such package file`, { detail: { path: abs } });
    else names.push(a);
  }
  return { names, files };
}

async function runPlanned(
  rt: AgentRuntime,
  ctx: PlanContext,
  io: VerbIo,
  opts: VerbOptions,
  verb: string,
  leftovers: VerbOutcome['leftovers'],
): Promise<VerbOutcome> {
  const plan = planJson(ctx.plan);
  if (opts.dryRun || !hasWork(ctx.plan)) return { plan, results: [], leftovers, exitCode: 0, dryRun: Boolean(opts.dryRun) };
  const targetRoot = targetFor(rt.config, verb);
  const results = await executePlan(ctx.plan, {
    db: rt.db,
    trust: rt.trust,
    fetch: fetchDepsOf(rt, io),
    localFiles: ctx.localFiles,
    targetRoot,
    timeoutMs: rt.config.installTimeoutMs,
    user: currentUser(),
    params: opts.params,
    tmpRoot: opts.tmpRoot,
    maxExtractBytes: opts.maxExtractBytes,
    killGraceMs: opts.killGraceMs,
    onOutput: io.output,
    onStep: io.step,
    onResult: io.result,
  });
  return { plan, results, leftovers, exitCode: exitFor(results), dryRun: false };
}

export async function installVerb(config: WaptConfig, io: VerbIo, args: string[], opts: VerbOptions & { cwd: string }): Promise<VerbOutcome> {
  // Rights first: a refused run must not even take the lock or touch the DB.
  if (!opts.dryRun) targetFor(config, 'install');
  const { names, files } = await splitArgs(args, opts.cwd);
  return withRuntime(config, io, { write: !opts.dryRun, lockTimeoutMs: opts.lockTimeoutMs }, async (rt, leftovers) => {
    const local: LocalPackage[] = [];
    const staged: StagedLocal[] = [];
    try {
      // a local .wapt is verified exactly like a downloaded one (signature, trust, code-signing rule);
      // to be installed, it is first copied somewhere private (issue 8 §5): its owner may rewrite it
      for (const file of files) {
        if (opts.dryRun) local.push({ file, verified: await verifyLocal(file, rt.trust) });
        else staged.push(await stageLocal(file, rt));
      }
      local.push(...staged.map((s) => ({ file: s.file, verified: s.verified })));
      const ctx = makePlan(rt.db, rt.config, { kind: 'install', names, force: opts.force }, local);
      return await runPlanned(rt, ctx, io, opts, 'install', leftovers);
    } finally {
      for (const s of staged) await s.cleanup();
    }
  });
}

/**
 * W-G3 upgrade: everything NEED-UPGRADE, host packages that apply, ERROR rows retried.
 * Rights: it needs no special rights to look, but installing is installing: when the
 * plan has work it requires the same rights as `install` (root or user_mode_root).
 */
export async function upgradeVerb(config: WaptConfig, io: VerbIo, names: string[], opts: VerbOptions): Promise<VerbOutcome> {
  return withRuntime(config, io, { write: !opts.dryRun, lockTimeoutMs: opts.lockTimeoutMs }, async (rt, leftovers) => {
    requireUsableIndex(rt.db, rt.config); // never "nothing to do" on an index we do not have
    const ctx = makePlan(rt.db, rt.config, { kind: 'upgrade', names });
    return runPlanned(rt, ctx, io, opts, 'upgrade', leftovers);
  });
}

export async function removeVerb(config: WaptConfig, io: VerbIo, names: string[], opts: VerbOptions): Promise<VerbOutcome> {
  if (!opts.dryRun) targetFor(config, 'remove');
  return withRuntime(config, io, { write: !opts.dryRun, lockTimeoutMs: opts.lockTimeoutMs }, async (rt, leftovers) => {
    // the resolver refuses held packages (PACKAGE_HELD) and unknown names (NOT_INSTALLED)
    const ctx = makePlan(rt.db, rt.config, { kind: 'remove', names, force: opts.force });
    return runPlanned(rt, ctx, io, opts, 'remove', leftovers);
  });
}

/** W-G3 forget: drop rows from the DB without running anything. Held packages are refused. */
export async function forgetVerb(config: WaptConfig, io: VerbIo, names: string[], opts: VerbOptions): Promise<VerbOutcome> {
  if (!opts.dryRun) targetFor(config, 'forget');
  return withRuntime(config, io, { write: !opts.dryRun, lockTimeoutMs: opts.lockTimeoutMs }, async (rt, leftovers) => {
    const rows = names.map((n) => {
      const row = rt.db.installed.get(n);
      if (!row) throw new WaptError('NOT_INSTALLED', `${n} is not in the local DB`, { detail: { package: n } });
      if (isHeld(row))
        throw new WaptError('PACKAGE_HELD', `${n} is held${row.hold_reason ? ` (${row.hold_reason})` : ''}; unhold it first`, { detail: { package: n } });
      return row;
    });
    const results = rows.map((r) => ({ package: r.package, version: r.version, action: 'forget' as const, status: 'REMOVED' as const }));
    if (opts.dryRun) return { results, leftovers, exitCode: 0, dryRun: true };
    rt.db.transaction(() => {
      for (const r of rows) {
        rt.db.installed.remove(r.package);
        rt.db.sessions.forgetPackage(r.package);
        rt.db.log.append('warning', `forgot ${r.package} ${r.version} (its files were left in place)`, r.package);
      }
    });
    await rt.db.persist();
    return { results, leftovers, exitCode: 0, dryRun: false };
  });
}
