// `wapt-get install NAME|REQUIREMENT|FILE.wapt…` (W-G3): dependencies first, each package
// fetched into the cache, verified, then installed in its own transaction.
import type { CommandSpec } from '../command.js';
import { reportAfter } from './update-status.js';
import { agentConfig, DRY_RUN, FORCE, LIMIT_RATE, LOCK_TIMEOUT, printOutcome, verbIo, TRANSFER_LIMITS } from '../progress.js';

export const command: CommandSpec = {
  name: 'install',
  summary: 'install packages (names, requirements such as tis-app(>=1.2), or .wapt files) with their dependencies',
  args: ['<packages...>'],
  options: [
    DRY_RUN,
    FORCE,
    LOCK_TIMEOUT,
    LIMIT_RATE,
    ...TRANSFER_LIMITS,
    { flags: '--params <json>', description: 'install parameters (a JSON object) given to the install hooks' },
  ],
  help: [
    'Needs root/administrator unless user_mode_root is set in wapt-get.ini.',
    'A local .wapt file is verified like a downloaded one (signature, trusted signer, code-signing rule).',
    'Exit codes: 0 ok, 3 verification failed, 5 lock busy, 6 an install failed, 7 unresolvable, 10 permission denied.',
  ].join('\n'),
  async run(ctx, [packages], opts) {
    const { WaptError } = await import('../../errors.js');
    let params: Record<string, unknown> | undefined;
    if (opts.params !== undefined) {
      try {
        params = JSON.parse(String(opts.params)) as Record<string, unknown>;
      } catch {
        params = undefined;
      }
      if (!params || typeof params !== 'object' || Array.isArray(params)) throw new WaptError('USAGE', '--params must be a JSON object, e.g. {"lang":"fr"}');
    }
    const config = await agentConfig(ctx, opts);
    const { installVerb } = await import('../../agent/index.js');
    const outcome = await installVerb(config, verbIo(ctx), packages as string[], { dryRun: opts.dryRun, force: opts.force, params, cwd: ctx.cwd });
    await printOutcome(ctx, outcome);
    await reportAfter(ctx, 'install', outcome.results, opts.dryRun);
    return outcome.exitCode;
  },
};
