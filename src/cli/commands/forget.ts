// `wapt-get forget NAME…` (W-G3): drops packages from the local DB without running
// their uninstall hook; their files stay where they are.
import type { CommandSpec } from '../command.js';
import { agentConfig, DRY_RUN, LOCK_TIMEOUT, printOutcome, verbIo } from '../progress.js';

export const command: CommandSpec = {
  name: 'forget',
  summary: 'drop packages from the local DB without uninstalling them',
  args: ['<packages...>'],
  options: [DRY_RUN, LOCK_TIMEOUT],
  help: 'Held packages are refused (PACKAGE_HELD). Needs root unless user_mode_root is set.',
  async run(ctx, [names], opts) {
    const config = await agentConfig(ctx, opts);
    const { forgetVerb } = await import('../../agent/index.js');
    const outcome = await forgetVerb(config, verbIo(ctx), names as string[], { dryRun: opts.dryRun });
    await printOutcome(ctx, outcome);
    return outcome.exitCode;
  },
};
