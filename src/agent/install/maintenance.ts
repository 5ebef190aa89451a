// download-upgrade, clean, check-upgrades, hold, unhold (W-G3): verbs around the plan
// that never run package code.
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, WaptError } from '../../errors.js';
import type { WaptConfig } from '../config.js';
import { requireUsableIndex } from '../index-health.js';
import { partDeadEnd } from '../cache.js';
import { downloadPlan } from './execute.js';
import { installSteps, pendingSteps, upgradePlan, type PendingStep } from './plan.js';
import { planJson, type PlanJson } from './report.js';
import { exitFor, fetchDepsOf, withRuntime, type VerbIo, type VerbOptions, type VerbOutcome } from './session.js';

/** Fetches and verifies into the cache what `upgrade` would install; installs nothing. */
export async function downloadUpgradeVerb(config: WaptConfig, io: VerbIo, opts: VerbOptions): Promise<VerbOutcome> {
  return withRuntime(config, io, { write: !opts.dryRun, lockTimeoutMs: opts.lockTimeoutMs }, async (rt, leftovers) => {
    const ctx = upgradePlan(rt.db, rt.config);
    const plan = planJson(ctx.plan);
    if (opts.dryRun) return { plan, results: [], leftovers, exitCode: 0, dryRun: true };
    const results = await downloadPlan(ctx.plan, fetchDepsOf(rt, io), { onStep: io.step, onResult: io.result });
    const exitCode = exitFor(results);
    return { plan, results, leftovers, exitCode, dryRun: false };
  });
}

export interface CleanOutcome {
  removed: string[];
  kept: string[];
  /** Parts of needed files removed because they can never complete, and why (also in removed). */
  deadParts: { file: string; reason: string }[];
  dryRun: boolean;
}

/** Deletes cache files that neither the current upgrade plan nor the installed set needs. */
export async function cleanVerb(config: WaptConfig, io: VerbIo, opts: VerbOptions): Promise<CleanOutcome> {
  return withRuntime(config, io, { write: !opts.dryRun, lockTimeoutMs: opts.lockTimeoutMs }, async (rt) => {
    const ctx = upgradePlan(rt.db, rt.config);
    const keep = new Set<string>(installSteps(ctx.plan).map((s) => s.candidate!.filename));
    const sizes = new Map(installSteps(ctx.plan).map((s) => [s.candidate!.filename, s.candidate!.size ?? null] as const));
    for (const r of rt.db.installed.list()) if (r.filename) keep.add(r.filename);
    const names = await readdir(rt.config.cacheDir).catch(() => [] as string[]);
    const removed: string[] = [];
    const kept: string[] = [];
    const deadParts: CleanOutcome['deadParts'] = [];
    for (const n of names.sort()) {
      // a .part of a needed file is a download to resume, not rubbish, unless it can never complete
      const owner = n.replace(/\.part(\.json)?$/, '');
      const dead = owner !== n ? await partDeadEnd(path.join(rt.config.cacheDir, `${owner}.part`), sizes.get(owner) ?? null) : null;
      if (dead && n.endsWith('.part')) deadParts.push({ file: n, reason: dead });
      if (keep.has(owner) && !dead) kept.push(n);
      else removed.push(n);
    }
    if (!opts.dryRun) for (const n of removed) await rm(path.join(rt.config.cacheDir, n), { recursive: true, force: true });
    return { removed, kept, deadParts, dryRun: Boolean(opts.dryRun) };
  });
}

export interface CheckOutcome {
  pending: PendingStep[];
  plan: PlanJson;
  exitCode: number;
}

/** Read-only: exit 0 when up to date, 100 (UPGRADES_PENDING) when `upgrade` has work. */
export async function checkUpgradesVerb(config: WaptConfig, io: VerbIo): Promise<CheckOutcome> {
  return withRuntime(config, io, { write: false }, async (rt) => {
    requireUsableIndex(rt.db, rt.config); // no repository / never fetched / expired is not "up to date"
    const ctx = upgradePlan(rt.db, rt.config);
    const pending = pendingSteps(ctx.plan);
    return { pending, plan: planJson(ctx.plan), exitCode: pending.length > 0 ? EXIT.UPGRADES_PENDING : EXIT.OK };
  });
}

export interface HoldOutcome {
  package: string;
  version: string;
  held: boolean;
  reason: string | null;
  until: string | null;
}

/** hold / unhold: a held package is never upgraded or removed (the resolver enforces it). */
export async function holdVerb(
  config: WaptConfig,
  io: VerbIo,
  name: string,
  hold: boolean,
  opts: VerbOptions & { reason?: string; until?: string },
): Promise<HoldOutcome> {
  let until: string | null = null;
  if (hold && opts.until) {
    const t = Date.parse(opts.until);
    if (Number.isNaN(t)) throw new WaptError('USAGE', `--until ${JSON.stringify(opts.until)} is not a date (use YYYY-MM-DD or an ISO 8601 time)`);
    until = new Date(t).toISOString();
  }
  return withRuntime(config, io, { write: !opts.dryRun, lockTimeoutMs: opts.lockTimeoutMs }, async (rt) => {
    const row = rt.db.installed.get(name);
    if (!row) throw new WaptError('NOT_INSTALLED', `${name} is not installed; only installed packages can be held`, { detail: { package: name } });
    const out = { package: name, version: row.version, held: hold, reason: hold ? (opts.reason ?? null) : null, until };
    if (opts.dryRun) return out;
    rt.db.transaction(() => {
      // setStatus keeps the status; only the hold columns change
      rt.db.installed.setStatus(name, row.install_status, { held: hold, hold_reason: out.reason, hold_until: until });
      rt.db.log.append('info', hold ? `held ${name}${out.reason ? `: ${out.reason}` : ''}` : `unheld ${name}`, name);
    });
    await rt.db.persist();
    return out;
  });
}
