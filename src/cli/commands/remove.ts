// `wapt-get remove NAME…` (W-G3): runs the stored uninstall() of each package, then
// forgets it. No cascade: dependents stay and are named in the plan warnings.
import type { CommandSpec } from '../command.js';
import { reportAfter } from './update-status.js';
import { agentConfig, DRY_RUN, LOCK_TIMEOUT, printOutcome, verbIo } from '../progress.js';

export const command: CommandSpec = {
  name: 'remove',
  aliases: ['uninstall'],
  summary: 'uninstall packages (their stored uninstall hook runs, then the DB row goes)',
  args: ['<packages...>'],
  options: [DRY_RUN, LOCK_TIMEOUT, { flags: '-f, --force', description: 'ignore names that are not installed' }],
  help: 'Held packages are refused (PACKAGE_HELD, exit 7). Needs root unless user_mode_root is set.',
  async run(ctx, [names], opts) {
    const config = await agentConfig(ctx, opts);
    const { removeVerb } = await import('../../agent/index.js');
    const outcome = await removeVerb(config, verbIo(ctx), names as string[], { dryRun: opts.dryRun, force: opts.force });
    await printOutcome(ctx, outcome);
    await reportAfter(ctx, 'remove', outcome.results, opts.dryRun);
    return outcome.exitCode;
  },
};
