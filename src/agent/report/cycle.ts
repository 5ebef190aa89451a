// The one report flow every verb ends with (when wapt_server is set): queue the events,
// wait a random moment (jitter spreads a fleet's cron runs), send the outbox in order,
// run the signed actions the answers carry, and report their outcomes the same way.
import type { ReportEvent, ReportOp } from '../../protocol/index.js';
import { runActions } from '../actions/runner.js';
import type { WaptConfig } from '../config.js';
import { checkUpgradesVerb, type VerbIo } from '../install/index.js';
import { Outbox } from './outbox.js';
import { sendOutbox, type Delivery, type PendingUpgrade } from './sender.js';

export interface CycleResult extends Delivery {
  queued: boolean;
  actions_run: number;
}

/** Result rows of any verb: install/upgrade/remove steps, audit rows, update repositories. */
export interface ResultLike {
  package?: string | null;
  version?: string | null;
  status: string;
  error_code?: string | null;
}

export function eventsOf(op: ReportOp, results: readonly ResultLike[], at: Date = new Date()): ReportEvent[] {
  return results
    .slice(0, 1000)
    .map((r) => ({ op, package: r.package ?? null, version: r.version ?? null, result: r.status, error_code: r.error_code ?? null, at: at.toISOString() }));
}

async function pendingUpgrades(cfg: WaptConfig, io: VerbIo): Promise<PendingUpgrade[]> {
  const quiet: VerbIo = { env: io.env, log: { info: () => undefined, warn: () => undefined, debug: () => undefined } };
  const r = await checkUpgradesVerb(cfg, quiet);
  return r.pending.filter((p) => p.action !== 'remove').map((p) => ({ package: p.package, version: p.to ?? null }));
}

export interface CycleOptions {
  /** Skip the jitter (interactive `update-status`, the agent loop). */
  noJitter?: boolean;
  /** Rounds of "run the actions an answer carried, report them" (default 3). */
  actionRounds?: number;
}

export async function reportCycle(cfg: WaptConfig, io: VerbIo, op: ReportOp, events: ReportEvent[], o: CycleOptions = {}): Promise<CycleResult | null> {
  if (!cfg.waptServer || !cfg.hostUuid) return null;
  const outbox = await Outbox.open(cfg.dbdir, cfg.outboxMax);
  await outbox.add({ op, events, action_results: [] });
  if (!o.noJitter && cfg.reportJitterMs > 0) await new Promise((r) => setTimeout(r, Math.floor(Math.random() * cfg.reportJitterMs)));
  const deps = { config: cfg, env: io.env, log: io.log, pendingUpgrades: () => pendingUpgrades(cfg, io) };
  let d = await sendOutbox(deps, outbox);
  const total: CycleResult = { ...d, queued: true, actions_run: 0 };
  for (let round = 0; round < (o.actionRounds ?? 3) && d.actions.length; round++) {
    const run = await runActions(cfg, io, d.actions);
    total.actions_run += run.outcomes.length;
    await outbox.add({ op: 'action', events: run.events, action_results: run.outcomes });
    d = await sendOutbox(deps, outbox);
    total.sent += d.sent;
    total.pending = d.pending;
    total.error = d.error;
    total.actions = d.actions;
  }
  return total;
}
