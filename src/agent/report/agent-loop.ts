// `wapt-get agent`: a foreground process (systemd, a Windows service) that long-polls
// wapt_server for actions (F1C: the agent calls out; no port is opened on it). Each poll
// is a signed claim with its own sequence, so a captured poll cannot be replayed.
import { signReport } from '../../protocol/index.js';
import type { WaptConfig } from '../config.js';
import { nextSequence } from '../host-identity.js';
import type { VerbIo } from '../install/index.js';
import { reportCycle } from './cycle.js';
import { existingIdentity, postClaim } from './sender.js';
import { runActions } from '../actions/runner.js';
import { Outbox } from './outbox.js';

export interface AgentLoopOptions {
  /** Seconds the server may hold each poll. */
  waitSecs: number;
  /** Stop after this many polls (tests); undefined: until stopped. */
  maxPolls?: number;
  /** Resolves when the loop must stop (a signal). */
  stop: Promise<unknown>;
  /** Pause after a failed poll, doubled up to 5 min. */
  retryMs?: number;
}

export async function agentLoop(cfg: WaptConfig, io: VerbIo, o: AgentLoopOptions): Promise<{ polls: number; actions: number }> {
  let stopped = false;
  void o.stop.then(() => (stopped = true));
  const sleep = (ms: number) => Promise.race([new Promise((r) => setTimeout(r, ms).unref()), o.stop]);
  let polls = 0;
  let actions = 0;
  let backoff = o.retryMs ?? 5000;
  // first a status report: flushes what earlier runs queued and picks up waiting actions
  const first = await reportCycle(cfg, io, 'update-status', [], { noJitter: true });
  actions += first?.actions_run ?? 0;
  while (!stopped && (o.maxPolls === undefined || polls < o.maxPolls)) {
    polls++;
    try {
      const identity = await existingIdentity(cfg, io.log);
      if (!identity) throw new Error('this host has no key yet: run `wapt-get register`');
      const claim = signReport('poll', cfg.hostUuid!, await nextSequence(identity.dir), {}, { key: identity.key, chain: [identity.certificate] });
      const deps = { config: { ...cfg, reportTimeoutMs: (o.waitSecs + 15) * 1000 }, env: io.env, log: io.log, pendingUpgrades: async () => [] };
      const res = await postClaim(deps, '/api/v1/poll', { claim, wait_secs: o.waitSecs });
      if (res.status !== 200) throw new Error(`poll refused: HTTP ${res.status} ${String(res.answer.code ?? '')}`);
      backoff = o.retryMs ?? 5000;
      const got = Array.isArray(res.answer.actions) ? res.answer.actions : [];
      if (got.length) {
        const run = await runActions(cfg, io, got);
        actions += run.outcomes.length;
        const outbox = await Outbox.open(cfg.dbdir, cfg.outboxMax);
        await outbox.add({ op: 'action', events: run.events, action_results: run.outcomes });
        const after = await reportCycle(cfg, io, 'update-status', [], { noJitter: true });
        actions += after?.actions_run ?? 0;
      }
    } catch (err) {
      io.log.warn(`agent: ${(err as Error).message}; retrying in ${Math.round(backoff / 1000)} s`);
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 300_000);
    }
  }
  return { polls, actions };
}
