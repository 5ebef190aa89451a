// `wapt-get remove-upgrade-shutdown`: disable and delete the unit add-upgrade-shutdown wrote.
import { spawnSync } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandSpec } from '../command.js';
import { SHUTDOWN_UNIT } from '../upgrade-shutdown.js';

export const command: CommandSpec = {
  name: 'remove-upgrade-shutdown',
  summary: 'stop upgrading at shutdown (remove the systemd unit add-upgrade-shutdown wrote)',
  options: [
    { flags: '--unit-dir <dir>', description: 'where the unit was written', default: '/etc/systemd/system' },
    { flags: '--no-enable', description: 'do not run systemctl (only delete the file)' },
    { flags: '--dry-run', description: 'say what would be removed; change nothing' },
  ],
  async run(ctx, _args, opts) {
    const path = join(opts.unitDir as string, SHUTDOWN_UNIT);
    const present = (await stat(path).catch(() => null)) !== null;
    if (opts.dryRun || !present) {
      ctx.out.result({ dry_run: Boolean(opts.dryRun), path, present }, () => (present ? `would remove ${path}` : `${path} is not installed: nothing to do`));
      return;
    }
    if (opts.enable !== false) spawnSync('systemctl', ['disable', '--now', SHUTDOWN_UNIT], { encoding: 'utf8' });
    await rm(path, { force: true });
    if (opts.enable !== false) spawnSync('systemctl', ['daemon-reload'], { encoding: 'utf8' });
    ctx.out.result({ path, removed: true }, () => `removed ${path}`);
  },
};
