// `wapt-get unregister`: tells wapt_server, with this host's signature, to forget it
// (its tombstone keeps the last sequence, so no old report comes back), then forgets the
// host identity here: key, certificate, sequence and queued reports. `register` makes a
// new identity afterwards. Nothing local changes when the server cannot be told.
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';

export const command: CommandSpec = {
  name: 'unregister',
  summary: 'ask wapt_server to forget this host (signed by its key), then forget the host identity here',
  options: [{ flags: '-n, --dry-run', description: 'say what would be sent and removed; send and remove nothing' }],
  help: [
    'Needs wapt_server and host_uuid in wapt-get.ini and a registration (<dbdir>/host-identity/).',
    'The server forgets the host as an admin DELETE would; a server that had already forgotten it is',
    'not an error. When the server cannot be reached or refuses, the identity is kept: run it again.',
  ].join('\n'),
  async run(ctx, _args, opts) {
    const cfg = await configOf(ctx);
    const { unregisterHost } = await import('../../agent/index.js');
    const r = await unregisterHost(cfg, ctx.env, ctx.out, Boolean(opts.dryRun));
    ctx.out.result(r, () =>
      r.dry_run
        ? [`would ask ${r.server} to forget ${r.host_uuid}, then remove:`, ...r.removed.map((p) => `  ${p}`)]
        : [
            r.server_status === 'unregistered' ? `${r.server} forgot ${r.host_uuid}` : `${r.server} had already forgotten ${r.host_uuid} (or never knew it)`,
            ...r.removed.map((p) => `  removed ${p}`),
            'run `wapt-get register` to register this host again (with a new key)',
          ],
    );
  },
};
