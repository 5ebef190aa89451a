// `wapt-get inventory` (W-G3): prints, as JSON, what `register` would send about this
// host (system facts and installed packages, W-G1/W-G2). Local only, nothing signed or sent.
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';

export const command: CommandSpec = {
  name: 'inventory',
  summary: "print this host's inventory (system facts, installed packages) as JSON",
  async run(ctx) {
    const cfg = await configOf(ctx);
    const [{ AgentRuntime }, inv, { VERSION_STRING }] = await Promise.all([
      import('../../agent/index.js'),
      import('../../agent/index.js'),
      import('../../version.js'),
    ]);
    const rt = await AgentRuntime.open(cfg, { lock: false, env: ctx.env, log: ctx.out });
    let inventory;
    try {
      inventory = inv.buildInventory(cfg.hostUuid, inv.systemFacts(), VERSION_STRING, rt.db.installed.list());
    } finally {
      await rt.close();
    }
    if (!cfg.hostUuid) ctx.out.warn(`no host_uuid in ${cfg.configPath} and none derived from /etc/machine-id`);
    ctx.out.result(inventory, () => JSON.stringify(inventory, null, 2));
  },
};
