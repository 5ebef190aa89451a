// `wapt-get generate-uuid`: give this host a new random UUID (host_uuid in wapt-get.ini),
// for cloned machines that share /etc/machine-id. The host package and the server
// registration follow the UUID, so the old identity is said in the output.
import { randomUUID } from 'node:crypto';
import type { CommandSpec } from '../command.js';
import { setConfigValue } from '../ini-file.js';

export const command: CommandSpec = {
  name: 'generate-uuid',
  summary: 'set a new random host_uuid in wapt-get.ini (cloned machines)',
  options: [{ flags: '--dry-run', description: 'print the UUID that would be written; change nothing' }],
  help: 'The host package (<uuid>.wapt) and the server registration follow host_uuid: register again afterwards.',
  async run(ctx, _args, opts) {
    const uuid = randomUUID().toUpperCase();
    if (opts.dryRun) {
      ctx.out.result({ dry_run: true, host_uuid: uuid }, () => `would set host_uuid = ${uuid}`);
      return;
    }
    const r = await setConfigValue(ctx, 'global', 'host_uuid', uuid);
    ctx.out.result(
      { host_uuid: uuid, previous: r.before, config: r.path },
      () => `host_uuid = ${uuid} (was ${r.before ?? 'derived from the machine id'}) in ${r.path}`,
    );
  },
};
