// `wapt-get show-params NAME`: the parameters an installed package was installed with
// (install --params), secrets masked: any key that looks like a secret, and any value
// a hook marked as one, is shown as "********" unless --reveal is given by root.
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';

const SECRET_KEY = /pass|secret|token|key|credential|pwd|pin$/i;

export function maskParams(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (SECRET_KEY.test(k)) out[k] = '********';
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[k] = maskParams(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

export const command: CommandSpec = {
  name: 'show-params',
  summary: 'show the parameters an installed package was installed with (secrets masked)',
  args: ['<package>'],
  options: [{ flags: '--reveal', description: 'show secret values too (root only: the DB is private to root)' }],
  async run(ctx, [name], opts) {
    const { AgentRuntime } = await import('../../agent/index.js');
    const cfg = await configOf(ctx);
    if (opts.reveal && !cfg.isRoot && !cfg.userModeRoot) {
      throw new WaptError('PERMISSION_DENIED', 'only root (or the user of user_mode_root) may --reveal install parameters');
    }
    const rt = await AgentRuntime.open(cfg, { lock: false, env: ctx.env, log: ctx.out });
    let row;
    try {
      row = rt.db.installed.get(name as string);
    } finally {
      await rt.close();
    }
    if (!row) throw new WaptError('NOT_INSTALLED', `${name as string} is not installed`, { detail: { package: name } });
    const params = opts.reveal ? row.install_params : maskParams(row.install_params);
    ctx.out.result({ package: row.package, version: row.version, params }, () => {
      const entries = Object.entries(params);
      return entries.length === 0
        ? `${row.package} ${row.version} was installed without parameters`
        : [`${row.package} ${row.version}`, ...entries.map(([k, v]) => `  ${k} = ${typeof v === 'string' ? v : JSON.stringify(v)}`)];
    });
  },
};
