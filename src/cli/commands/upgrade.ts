// `wapt-get upgrade` (W-G3): everything NEED-UPGRADE, the host packages that apply
// (W-F4), and packages in ERROR retried. Held packages are left alone.
import type { CommandSpec } from '../command.js';
import { reportAfter } from './update-status.js';
import { agentConfig, DRY_RUN, LIMIT_RATE, LOCK_TIMEOUT, printOutcome, verbIo, TRANSFER_LIMITS } from '../progress.js';

export const command: CommandSpec = {
  name: 'upgrade',
  summary: 'upgrade installed packages, install host packages and retry failed installs',
  args: ['[packages...]'],
  options: [DRY_RUN, LOCK_TIMEOUT, LIMIT_RATE, ...TRANSFER_LIMITS],
  help: [
    'Works offline from verified cached packages. When there is work to do it needs the same',
    'rights as install (root, or user_mode_root set). Pending removals (an uninstall that failed',
    'or was killed) are run again, never turned into installs. Exit codes: 0 ok, 5 lock busy, else',
    'the worst failure (3 tampered package, 6 install failed, 4 download failed, …: README).',
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
