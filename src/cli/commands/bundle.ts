// `wapt-get bundle --out site.tar NAME…`: an offline bundle for air-gapped sites.
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';

const OSES = ['windows', 'linux', 'darwin'];

export const command: CommandSpec = {
  name: 'bundle',
  summary: 'write an offline bundle: the signed index as published plus NAME… and their dependencies',
  args: ['<packages...>'],
  options: [
    { flags: '-o, --out <file>', description: 'tar file to write (required)' },
    { flags: '--repo <name>', description: 'repository to take the index from (default: the first configured)' },
    { flags: '--arch <arch>', description: "architecture of the target hosts (default: this host's)" },
    { flags: '--os <os>', description: "OS of the target hosts: windows, linux or darwin (default: this host's)" },
  ],
  help: 'Import it on the target with `wapt-get update --from-bundle FILE`: the same checks as over HTTPS apply.',
  async run(ctx, [names], opts) {
    if (!opts.out) throw new WaptError('USAGE', 'bundle needs --out FILE');
    if (opts.os && !OSES.includes(opts.os)) throw new WaptError('USAGE', `--os must be one of ${OSES.join(', ')}`);
    const { resolve } = await import('node:path');
    const { AgentRuntime } = await import('../../agent/index.js');
    const { createBundle } = await import('../../agent/index.js');
    const rt = await AgentRuntime.open(await configOf(ctx), { lock: true, env: ctx.env, log: ctx.out });
    let res;
    try {
      res = await createBundle(rt, {
        out: resolve(ctx.cwd, opts.out),
        names: names as string[],
        repo: opts.repo,
        env: { ...(opts.arch ? { architecture: opts.arch } : {}), ...(opts.os ? { os: opts.os } : {}) },
      });
    } finally {
      await rt.close();
    }
    ctx.out.result(res, () => [
      `${res.out}: ${res.packages.length} packages, ${res.size} bytes, index of ${res.repo} (${res.signed ? `signed v${res.index_version}` : 'unsigned'})`,
      ...res.packages.map((p) => `  ${p.filename}`),
    ]);
  },
};
