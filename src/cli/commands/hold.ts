// `wapt-get hold NAME [--reason …] [--until DATE]`: a held package is never upgraded or
// removed by any path until `unhold` (or until DATE passes).
import type { CommandSpec } from '../command.js';
import { agentConfig, DRY_RUN, LOCK_TIMEOUT, verbIo } from '../progress.js';

export const command: CommandSpec = {
  name: 'hold',
  summary: 'keep an installed package at its version: no upgrade, no remove',
  args: ['<package>'],
  options: [
    { flags: '--reason <text>', description: 'why (shown in plans)' },
    { flags: '--until <date>', description: 'the hold ends at this date (YYYY-MM-DD or ISO 8601)' },
    DRY_RUN,
    LOCK_TIMEOUT,
  ],
  async run(ctx, [name], opts) {
    const config = await agentConfig(ctx, opts);
    const { holdVerb } = await import('../../agent/index.js');
    const r = await holdVerb(config, verbIo(ctx), name as string, true, { dryRun: opts.dryRun, reason: opts.reason, until: opts.until });
    ctx.out.result(
      { ...r, dry_run: Boolean(opts.dryRun) },
      () => `${opts.dryRun ? 'would hold' : 'held'} ${r.package} ${r.version}${r.reason ? ` (${r.reason})` : ''}${r.until ? ` until ${r.until}` : ''}`,
    );
  },
};
