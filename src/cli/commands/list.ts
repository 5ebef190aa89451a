// `wapt-get list`: installed packages (W-G1) as the local DB records them.
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';

export const command: CommandSpec = {
  name: 'list',
  summary: 'list installed packages',
  args: ['[names...]'],
  help: 'With names, only those (substring match on the package name).',
  async run(ctx, [names]) {
    const { AgentRuntime } = await import('../../agent/index.js');
    const rt = await AgentRuntime.open(await configOf(ctx), { lock: false, env: ctx.env, log: ctx.out });
    let rows;
    try {
      rows = rt.db.installed.list();
    } finally {
      await rt.close();
    }
    const filters = (names as string[] | undefined) ?? [];
    const shown = filters.length === 0 ? rows : rows.filter((r) => filters.some((f) => r.package.includes(f)));
    const installed = shown.map((r) => ({
      package: r.package,
      version: r.version,
      install_status: r.install_status,
      error_code: r.error_code,
      pending_action: r.pending_action,
      install_date: r.install_date,
      explicit_by: r.explicit_by,
      depends_by: r.depends_by,
      held: r.held,
      repo: r.repo,
      architecture: r.architecture,
      maturity: r.maturity,
      locale: r.locale,
    }));
    ctx.out.result({ installed }, () =>
      installed.length === 0
        ? ['no package installed']
        : installed.map(
            (r) =>
              `${r.package.padEnd(30)} ${r.version.padEnd(16)} ${r.install_status}${r.error_code ? ` [${r.error_code}]` : ''}` +
              `${r.pending_action === 'remove' ? ' (pending removal)' : ''}${r.held ? ' (held)' : ''}${r.explicit_by === null ? ' (dependency)' : ''}`,
          ),
    );
  },
};
