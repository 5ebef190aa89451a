// `wapt-get list-upgrade`: what `upgrade` would do (NEED-UPGRADE, W-G2), from the one
// answer every verb asks (agent install/plan.ts upgradePlan): holds with hold_until,
// host packages, ERROR retries and pending removals included.
import { EXIT } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { agentConfig, verbIo } from '../progress.js';

export const command: CommandSpec = {
  name: 'list-upgrade',
  summary: 'list what `upgrade` would do: newer versions, host packages, retries, pending removals',
  options: [{ flags: '--exit-code', description: `exit ${EXIT.UPGRADES_PENDING} when something is upgradable (for scripts and monitoring)` }],
  help: `Exit 0, or ${EXIT.UPGRADES_PENDING} with --exit-code when upgrades are pending. Held packages are not listed.`,
  async run(ctx, _args, opts) {
    const config = await agentConfig(ctx, opts);
    const { checkUpgradesVerb } = await import('../../agent/index.js');
    const r = await checkUpgradesVerb(config, verbIo(ctx));
    const upgrades = r.pending;
    ctx.out.result({ upgrades, held: r.plan.held }, () =>
      upgrades.length === 0
        ? ['nothing to upgrade']
        : upgrades.map((u) =>
            u.action === 'remove'
              ? `${u.package.padEnd(30)} ${u.from ?? '-'} -> removed (${u.reason})`
              : `${u.package.padEnd(30)} ${u.from ?? '-'} -> ${u.to ?? '?'} (${u.repo ?? '?'})${u.reason === 'upgrade' ? '' : ` [${u.reason}]`}`,
          ),
    );
    return opts.exitCode && upgrades.length > 0 ? EXIT.UPGRADES_PENDING : EXIT.OK;
  },
};
