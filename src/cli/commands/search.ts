// `wapt-get search TERM`: available entries whose name or description holds TERM.
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';

export const command: CommandSpec = {
  name: 'search',
  summary: 'search the available packages by name and description',
  args: ['[term]'],
  options: [{ flags: '--eligible', description: 'only entries this host may install (architecture, maturity, locale, OS…)' }],
  help: 'Without TERM, every available entry. Run `wapt-get update` first.',
  async run(ctx, [term], opts) {
    const { AgentRuntime } = await import('../../agent/index.js');
    const { toCandidate, priorityFromRepos } = await import('../../agent/index.js');
    const { hostEnvironment } = await import('../../agent/index.js');
    const { eligible } = await import('../../agent/index.js');
    const rt = await AgentRuntime.open(await configOf(ctx), { lock: false, env: ctx.env, log: ctx.out });
    let results;
    try {
      const env = hostEnvironment(rt.config);
      const prio = priorityFromRepos(rt.config.repos);
      const installed = new Map(rt.db.installed.list().map((r) => [r.package, r.version]));
      results = rt.db.available.search((term as string | undefined) ?? '').map((row) => {
        const e = eligible(toCandidate(row, prio), env);
        return {
          package: row.package,
          version: row.version,
          repo: row.repo,
          architecture: row.architecture,
          maturity: row.maturity,
          locale: row.locale,
          section: row.section,
          description: row.description,
          installed_version: installed.get(row.package) ?? null,
          eligible: e.ok,
          ...(e.ok ? {} : { reason: e.reason }),
        };
      });
    } finally {
      await rt.close();
    }
    if (opts.eligible) results = results.filter((r) => r.eligible);
    ctx.out.result({ term: term ?? '', results }, () =>
      results.length === 0
        ? [`no package matches ${JSON.stringify(term ?? '')}`]
        : results.map((r) => {
            const mark = r.installed_version === r.version ? '[installed] ' : '';
            const desc = r.description.split('\n')[0];
            return `${r.package.padEnd(30)} ${r.version.padEnd(16)} ${r.repo.padEnd(10)} ${mark}${desc}${r.eligible ? '' : ctx.out.c.dim(` (not for this host: ${r.reason})`)}`;
          }),
    );
  },
};
