// `wapt-get add-upgrade-shutdown`: install (and enable) a systemd unit that runs
// `wapt-get upgrade` before shutdown, so laptops upgrade when the user leaves.
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { WaptError } from '../../errors.js';
import { atomicWriteFile } from '../../atomic-file.js';
import type { CommandSpec } from '../command.js';
import { parseBudget, SHUTDOWN_UNIT, shutdownUnit } from '../upgrade-shutdown.js';

export function thisCommand(): string {
  const bin = realpathSync(process.argv[1] ?? 'wapt-get');
  return `${process.execPath} ${bin}`;
}

export const command: CommandSpec = {
  name: 'add-upgrade-shutdown',
  summary: 'run `wapt-get upgrade` before every shutdown (systemd unit), within a time budget',
  options: [
    { flags: '--budget <duration>', description: 'longest the upgrade may delay shutdown (seconds, or with m/h; at least 60 s)', default: '15m' },
    { flags: '--unit-dir <dir>', description: 'where to write the unit', default: '/etc/systemd/system' },
    { flags: '--no-enable', description: 'write the unit only; do not run systemctl' },
    { flags: '--dry-run', description: 'print the unit; write nothing' },
  ],
  help: 'Windows: a shutdown script in group policy runs `wapt-get upgrade --quiet` instead (docs/packager.md).',
  async run(ctx, _args, opts) {
    const budget = parseBudget(opts.budget as string);
    if (budget === null) throw new WaptError('USAGE', `--budget ${JSON.stringify(opts.budget)}: give seconds or a number with m/h, at least 60 s`);
    const unit = shutdownUnit(thisCommand(), budget);
    const path = join(opts.unitDir as string, SHUTDOWN_UNIT);
    if (opts.dryRun) {
      ctx.out.result({ dry_run: true, path, unit }, () => [`would write ${path}:`, unit]);
      return;
    }
    await atomicWriteFile(path, unit, { defaultMode: 0o644 });
    let enabled = false;
    if (opts.enable !== false) {
      for (const args of [['daemon-reload'], ['enable', '--now', SHUTDOWN_UNIT]]) {
        const r = spawnSync('systemctl', args, { encoding: 'utf8' });
        if (r.error || r.status !== 0) {
          throw new WaptError('IO_ERROR', `wrote ${path}, but \`systemctl ${args.join(' ')}\` failed: ${r.error?.message ?? r.stderr.trim()}`, {
            detail: { path, hint: 'enable it by hand: systemctl enable --now ' + SHUTDOWN_UNIT },
          });
        }
      }
      enabled = true;
    }
    ctx.out.result(
      { path, budget_seconds: budget, enabled },
      () => `${path} written${enabled ? ' and enabled' : ' (not enabled: run systemctl enable --now ' + SHUTDOWN_UNIT + ')'}`,
    );
  },
};
