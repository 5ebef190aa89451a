// `wapt-get update-status` (W-G3): sends a SIGNED status report (installed packages,
// their install and audit status, W-G2) to `<wapt_server>/api/v1/status`. The host must
// have registered first; the server checks the signer is the registered certificate
// and that the report's sequence grows (no replay).
import type { CommandSpec } from '../command.js';
import { sendReport } from './register.js';

export const command: CommandSpec = {
  name: 'update-status',
  summary: 'send a signed status report of installed packages to wapt_server',
  help: 'Run `wapt-get register` once first. Needs wapt_server and host_uuid in wapt-get.ini.',
  async run(ctx) {
    const r = await sendReport(ctx, 'status');
    const counts = Object.entries(r.counts)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    ctx.out.result(r, () => `status sent to ${r.server}: ${r.packages} packages${counts ? ` (${counts})` : ''}, report ${r.sequence}`);
  },
};
