// `wapt-get sources NAME`: where a package came from, as its control says (`sources`,
// informational, W-C2), with the repository and file it was installed or is offered from.
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';

export const command: CommandSpec = {
  name: 'sources',
  summary: "show where a package's sources are, as its control says (sources, homepage)",
  args: ['<package>'],
  async run(ctx, [name]) {
    const { AgentRuntime } = await import('../../agent/index.js');
    const { parseControl, field } = await import('../../package/index.js');
    const rt = await AgentRuntime.open(await configOf(ctx), { lock: false, env: ctx.env, log: ctx.out });
    let installed, available;
    try {
      installed = rt.db.installed.get(name as string);
      available = rt.db.available.forPackage(name as string);
    } finally {
      await rt.close();
    }
    const rows = [
      // The installed row keeps no control: its sources are those of the same version still offered.
      ...(installed
        ? [
            {
              from: 'installed',
              version: installed.version,
              repo: installed.repo,
              filename: installed.filename,
              control: available.find((a) => a.version === installed.version)?.control ?? null,
            },
          ]
        : []),
      ...available.map((a) => ({ from: 'available', version: a.version, repo: a.repo, filename: a.filename, control: a.control })),
    ];
    if (rows.length === 0)
      throw new WaptError('PACKAGE_NOT_FOUND', `no package named ${name as string} is installed or available`, { detail: { package: name } });
    const out = rows.map((r) => {
      const c = r.control ? parseControl(r.control, { source: `${name as string} control` }) : new Map<string, string>();
      return { from: r.from, version: r.version, repo: r.repo, filename: r.filename, sources: field(c, 'sources'), homepage: field(c, 'homepage') };
    });
    ctx.out.result({ package: name, sources: out }, () =>
      out.map(
        (s) => `${s.from.padEnd(9)} ${s.version}  ${s.sources || '(no sources given)'}${s.homepage ? `  homepage ${s.homepage}` : ''}  [${s.repo ?? '-'}]`,
      ),
    );
  },
};
