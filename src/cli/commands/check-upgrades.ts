// `wapt-get check-upgrades`: read-only. Exit 0 when up to date, 100 when `upgrade` has
// work (newer versions, host packages to install, failed installs to retry).
import type { CommandSpec } from '../command.js';
import { agentConfig, verbIo } from '../progress.js';

export const command: CommandSpec = {
  name: 'check-upgrades',
  summary: 'list pending upgrades; exit 100 when there are some, 0 when up to date',
  help: 'Uses the stored index: run `wapt-get update` first for fresh results. Needs no special rights.',
  async run(ctx, _args, opts) {
    const config = await agentConfig(ctx, opts);
    const { checkUpgradesVerb } = await import('../../agent/index.js');
    const r = await checkUpgradesVerb(config, verbIo(ctx));
    ctx.out.result({ pending: r.pending, held: r.plan.held, unavailable: r.plan.unavailable }, () =>
      r.pending.length === 0
        ? ['up to date']
        : r.pending.map((p) =>
            p.action === 'remove' ? `${p.package} ${p.from ?? '-'} → removed (${p.reason})` : `${p.package} ${p.from ?? '-'} → ${p.to ?? '?'} (${p.reason})`,
          ),
    );
    return r.exitCode;
  },
};
