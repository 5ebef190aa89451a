// `wapt-get unhold NAME`: the package follows upgrades and may be removed again.
import type { CommandSpec } from '../command.js';
import { agentConfig, DRY_RUN, LOCK_TIMEOUT, verbIo } from '../progress.js';

export const command: CommandSpec = {
  name: 'unhold',
  summary: 'release a held package',
  args: ['<package>'],
  options: [DRY_RUN, LOCK_TIMEOUT],
  async run(ctx, [name], opts) {
    const config = await agentConfig(ctx, opts);
    const { holdVerb } = await import('../../agent/index.js');
    const r = await holdVerb(config, verbIo(ctx), name as string, false, { dryRun: opts.dryRun });
    ctx.out.result({ ...r, dry_run: Boolean(opts.dryRun) }, () => `${opts.dryRun ? 'would unhold' : 'unheld'} ${r.package} ${r.version}`);
  },
};
