// `wapt-get download-upgrade` (W-G3): fetches and verifies into the cache what `upgrade`
// would install, so a later upgrade works offline. Installs nothing.
import type { CommandSpec } from '../command.js';
import { agentConfig, DRY_RUN, LIMIT_RATE, LOCK_TIMEOUT, printOutcome, verbIo, TRANSFER_LIMITS } from '../progress.js';

export const command: CommandSpec = {
  name: 'download-upgrade',
  summary: 'download (and verify) the packages a pending upgrade needs, install nothing',
  options: [DRY_RUN, LOCK_TIMEOUT, LIMIT_RATE, ...TRANSFER_LIMITS],
  help: 'Needs no special rights. Exit codes: 0 ok, 3 a file failed verification (deleted), 4 download failed.',
  async run(ctx, _args, opts) {
    const config = await agentConfig(ctx, opts);
    const { downloadUpgradeVerb } = await import('../../agent/index.js');
    const outcome = await downloadUpgradeVerb(config, verbIo(ctx, 'downloading'), { dryRun: opts.dryRun });
    await printOutcome(ctx, outcome);
    return outcome.exitCode;
  },
};
