// `wapt-get update-status` (W-G3): sends a SIGNED status report of installed packages
// (install and audit status, W-G2) to `<wapt_server>/api/v1/status`, after what earlier
// runs left in the outbox. The host must have registered first; the server checks the
// signer is the registered certificate and that the report's sequence grows (no replay).
// Also exports reportAfter(), the one line every state-changing verb ends with.
import type { ReportOp } from '../../protocol/index.js';
import type { ResultLike } from '../../agent/index.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { configOf } from '../context.js';
import { verbIo } from '../progress.js';
import { sendReport } from './register.js';

/**
 * Ends a verb when wapt_server is set: queue its events, send the outbox, run signed
 * actions the server answers with. Never throws and never changes the verb's exit code.
 */
export async function reportAfter(ctx: CommandContext, op: ReportOp, results: readonly ResultLike[], dryRun = false): Promise<void> {
  if (dryRun) return;
  try {
    const cfg = await configOf(ctx);
    if (!cfg.waptServer) return;
    const { reportCycle, eventsOf } = await import('../../agent/index.js');
    const r = await reportCycle(cfg, verbIo(ctx), op, eventsOf(op, results));
    if (!r) return;
    if (r.error) ctx.out.warn(`report to ${cfg.waptServer} not sent (${r.error}); ${r.pending} queued in the outbox for the next run`);
    else ctx.out.debug(`report sent to ${cfg.waptServer} (${r.sent} sent${r.actions_run ? `, ${r.actions_run} actions run` : ''})`);
  } catch (err) {
    ctx.out.warn(`report not queued: ${(err as Error).message}`);
  }
}

export const command: CommandSpec = {
  name: 'update-status',
  summary: 'send a signed status report of installed packages to wapt_server',
  options: [{ flags: '-n, --dry-run', description: 'say what would be sent where; send nothing (the outbox is left as it is)' }],
  help: 'Run `wapt-get register` once first. Needs wapt_server and host_uuid in wapt-get.ini. Reports queued in <dbdir>/outbox/ go first.',
  async run(ctx, _args, opts) {
    const cfg = await configOf(ctx);
    if (opts.dryRun) {
      const r = await sendReport(ctx, 'status', { dryRun: true });
      ctx.out.result(r, () => `would send the status of ${r.packages} packages to ${r.server} (dry run: nothing was sent)`);
      return;
    }
    if (cfg.waptServer && cfg.hostUuid) {
      const { Outbox, sendOutbox } = await import('../../agent/index.js');
      const outbox = await Outbox.open(cfg.dbdir, cfg.outboxMax);
      const d = await sendOutbox({ config: cfg, env: ctx.env, log: ctx.out, pendingUpgrades: async () => [] }, outbox);
      if (d.error && d.pending) ctx.out.warn(`outbox: ${d.pending} reports still queued (${d.error})`);
    }
    const r = await sendReport(ctx, 'status');
    const counts = Object.entries(r.counts)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    ctx.out.result(r, () => `status sent to ${r.server}: ${r.packages} packages${counts ? ` (${counts})` : ''}, report ${r.sequence}`);
  },
};
