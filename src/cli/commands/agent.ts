// `wapt-get agent`: a foreground process for systemd or a Windows service. It sends a
// status report (and the outbox), then long-polls wapt_server for signed actions and runs
// them (F1C: the agent calls out, no port is opened on it). Stops on SIGINT/SIGTERM.
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';
import { verbIo } from '../progress.js';

export const command: CommandSpec = {
  name: 'agent',
  summary: 'run in the foreground, long-polling wapt_server for signed actions (systemd, Windows service)',
  options: [
    { flags: '--wait <seconds>', description: 'how long the server may hold each poll', default: '25' },
    { flags: '--polls <n>', description: 'stop after this many polls (tests, one-shot runs)' },
  ],
  help: 'Needs wapt_server, host_uuid and action_signers_dir in wapt-get.ini, and a registered host (`wapt-get register`).',
  async run(ctx, _args, opts) {
    const cfg = await configOf(ctx);
    if (!cfg.waptServer || !cfg.hostUuid)
      throw new WaptError('CONFIG_INVALID', `set wapt_server and host_uuid in [global] of ${cfg.configPath}`, { detail: { key: 'wapt_server' } });
    if (!cfg.actionSignersDir) ctx.out.warn('action_signers_dir is not set: every action will be refused (and reported so)');
    const waitSecs = Number(opts.wait);
    if (!Number.isInteger(waitSecs) || waitSecs < 0 || waitSecs > 60) throw new WaptError('USAGE', '--wait: 0 to 60 seconds');
    const maxPolls = opts.polls !== undefined ? Number(opts.polls) : undefined;
    const [{ agentLoop }, { waitForSignal }] = await Promise.all([import('../../agent/index.js'), import('../../server/index.js')]);
    ctx.out.info(`agent: polling ${cfg.waptServer} for actions`);
    const r = await agentLoop(cfg, verbIo(ctx), { waitSecs, maxPolls, stop: waitForSignal() });
    ctx.out.result(r, () => `agent stopped after ${r.polls} polls, ${r.actions} actions`);
  },
};
