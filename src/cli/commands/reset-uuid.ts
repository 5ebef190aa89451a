// `wapt-get reset-uuid`: drop host_uuid from wapt-get.ini, so the UUID is derived from the
// machine again (/etc/machine-id; the BIOS UUID on Windows), as WAPT's reset-uuid does.
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';
import { setConfigValue } from '../ini-file.js';

export const command: CommandSpec = {
  name: 'reset-uuid',
  summary: "remove host_uuid from wapt-get.ini: the host's UUID is derived from the machine again",
  options: [{ flags: '--dry-run', description: 'say what would change; change nothing' }],
  async run(ctx, _args, opts) {
    const cfg = await configOf(ctx);
    if (opts.dryRun) {
      ctx.out.result({ dry_run: true, host_uuid: cfg.hostUuid }, () => `would remove host_uuid (now ${cfg.hostUuid ?? 'unset'}) from ${cfg.configPath}`);
      return;
    }
    const r = await setConfigValue(ctx, 'global', 'host_uuid', null);
    ctx.out.result({ removed: r.before, config: r.path }, () =>
      r.before ? `removed host_uuid = ${r.before} from ${r.path}` : `no host_uuid was set in ${r.path}`,
    );
  },
};
