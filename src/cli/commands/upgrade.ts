// `wapt-get upgrade` (W-G3): everything NEED-UPGRADE, the host packages that apply
// (W-F4), and packages in ERROR retried. Held packages are left alone.
import type { CommandSpec } from '../command.js';
import { agentConfig, DRY_RUN, LIMIT_RATE, LOCK_TIMEOUT, printOutcome, verbIo, TRANSFER_LIMITS } from '../progress.js';

export const command: CommandSpec = {
  name: 'upgrade',
  summary: 'upgrade installed packages, install host packages and retry failed installs',
  args: ['[packages...]'],
  options: [DRY_RUN, LOCK_TIMEOUT, LIMIT_RATE, ...TRANSFER_LIMITS],
  help: [
    'Works offline from verified cached packages. When there is work to do it needs the same',
    'rights as install (root, or user_mode_root set). Exit codes: 0 ok, 5 lock busy, 6 an install failed.',
  ].join('\n'),
  async run(ctx, [names], opts) {
    const config = await agentConfig(ctx, opts);
    const { upgradeVerb } = await import('../../agent/index.js');
    const outcome = await upgradeVerb(config, verbIo(ctx), (names as string[] | undefined) ?? [], { dryRun: opts.dryRun });
    await printOutcome(ctx, outcome);
    await reportAfter(ctx, 'upgrade', outcome.results, opts.dryRun);
    return outcome.exitCode;
  },
};
