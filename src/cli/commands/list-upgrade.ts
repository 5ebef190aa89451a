// `wapt-get list-upgrade`: installed packages with a newer eligible version (NEED-UPGRADE, W-G2).
import { EXIT } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';

export const command: CommandSpec = {
  name: 'list-upgrade',
  summary: 'list installed packages that have a newer eligible version',
  options: [{ flags: '--exit-code', description: `exit ${EXIT.UPGRADES_PENDING} when something is upgradable (for scripts and monitoring)` }],
  help: `Exit 0, or ${EXIT.UPGRADES_PENDING} with --exit-code when upgrades are pending. Held packages are not listed.`,
  async run(ctx, _args, opts) {
    const { AgentRuntime } = await import('../../agent/index.js');
    const { availableCandidates, toInstalledPkg } = await import('../../agent/index.js');
    const { hostEnvironment } = await import('../../agent/index.js');
    const { upgradable } = await import('../../agent/index.js');
    const rt = await AgentRuntime.open(await configOf(ctx), { lock: false, env: ctx.env, log: ctx.out });
    let ups;
    try {
      const cands = availableCandidates(rt.db, rt.config.repos, (m) => ctx.out.warn(m));
      ups = upgradable(cands, rt.db.installed.list().map(toInstalledPkg), hostEnvironment(rt.config));
    } finally {
      await rt.close();
    }
    const upgrades = ups.map((u) => ({ package: u.package, from: u.from, to: u.to, repo: u.candidate.repo, filename: u.candidate.filename }));
    ctx.out.result({ upgrades }, () =>
      upgrades.length === 0 ? ['nothing to upgrade'] : upgrades.map((u) => `${u.package.padEnd(30)} ${u.from} -> ${u.to} (${u.repo})`),
    );
    return opts.exitCode && upgrades.length > 0 ? EXIT.UPGRADES_PENDING : EXIT.OK;
  },
};
