// `wapt-get session-setup [NAME…]`: per-user hooks (session_setup), run once per user and
// package version; meant for a login script.
import type { CommandSpec } from '../command.js';
import { agentConfig, DRY_RUN, LOCK_TIMEOUT, verbIo } from '../progress.js';

export const command: CommandSpec = {
  name: 'session-setup',
  summary: "run installed packages' session_setup hooks for the current user (once per version)",
  args: ['[packages...]'],
  options: [DRY_RUN, LOCK_TIMEOUT],
  async run(ctx, [names], opts) {
    const config = await agentConfig(ctx, opts);
    const { sessionSetupVerb } = await import('../../agent/index.js');
    const r = await sessionSetupVerb(config, verbIo(ctx), (names as string[] | undefined) ?? [], { dryRun: opts.dryRun });
    ctx.out.result({ user: r.user, dry_run: Boolean(opts.dryRun), results: r.results }, () =>
      r.results.map((x) => `${x.package} ${x.version}: ${x.status}${x.error_code ? ` [${x.error_code}] ${x.message}` : ''}`),
    );
    return r.exitCode;
  },
};
