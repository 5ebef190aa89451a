// Runs the signed actions the server handed over (F3A, F1C): each is verified first
// (signature, signer chains to action_signers_dir, our UUID, time window, never run),
// recorded, then run through the same verbs the CLI uses. Every action gets an outcome
// (OK, ERROR, REFUSED) that the next report carries back.
import { TrustStore } from '../../crypto/index.js';
import { isWaptError } from '../../errors.js';
import { verifyAction, type ActionBody, type ActionOutcome, type ReportEvent } from '../../protocol/index.js';
import { auditVerb } from '../audit.js';
import type { WaptConfig } from '../config.js';
import { forgetVerb, installVerb, removeVerb, upgradeVerb, type VerbIo } from '../install/index.js';
import { AgentRuntime } from '../runtime.js';
import { runUpdate } from '../update/index.js';
import { ActionRunLog } from './run-log.js';

export interface ActionsRun {
  outcomes: ActionOutcome[];
  events: ReportEvent[];
}

interface StepLike {
  package: string;
  version: string;
  status: string;
  error_code?: string | null;
}

async function execute(cfg: WaptConfig, io: VerbIo, a: ActionBody): Promise<{ exitCode: number; steps: StepLike[] }> {
  switch (a.action) {
    case 'update': {
      const rt = await AgentRuntime.open(cfg, { lock: true, recreateCorruptDb: true, env: io.env, log: io.log });
      try {
        const s = await runUpdate(rt, {});
        const failed = s.repos.find((r) => r.status === 'failed');
        return {
          exitCode: failed ? 1 : 0,
          steps: s.repos.map((r) => ({ package: r.repo, version: '', status: r.status === 'failed' ? 'ERROR' : 'OK', error_code: r.error?.code ?? null })),
        };
      } finally {
        await rt.close();
      }
    }
    case 'upgrade': {
      const o = await upgradeVerb(cfg, io, a.args, {});
      return { exitCode: o.exitCode, steps: o.results };
    }
    case 'install': {
      // names and requirements only: checkActionBody refuses paths, so no local file is installed
      const o = await installVerb(cfg, io, a.args, { cwd: cfg.dbdir });
      return { exitCode: o.exitCode, steps: o.results };
    }
    case 'remove': {
      const o = await removeVerb(cfg, io, a.args, {});
      return { exitCode: o.exitCode, steps: o.results };
    }
    case 'forget': {
      const o = await forgetVerb(cfg, io, a.args, {});
      return { exitCode: o.exitCode, steps: o.results };
    }
    case 'audit': {
      const o = await auditVerb(cfg, io, a.args, {});
      return { exitCode: o.exitCode, steps: o.results.map((r) => ({ package: r.package, version: r.version, status: r.status })) };
    }
    case 'update-status':
      return { exitCode: 0, steps: [] }; // the report that follows is the status
  }
}

export async function runActions(cfg: WaptConfig, io: VerbIo, actions: readonly unknown[], now: () => Date = () => new Date()): Promise<ActionsRun> {
  const run: ActionsRun = { outcomes: [], events: [] };
  if (!actions.length) return run;
  const log = await ActionRunLog.open(cfg.dbdir);
  const trust = cfg.actionSignersDir ? await TrustStore.load(cfg.actionSignersDir, { onWarning: (m) => io.log.warn(m) }) : TrustStore.fromCertificates([]);
  for (const input of actions) {
    const id =
      typeof input === 'object' && input !== null && typeof (input as { id?: unknown }).id === 'string'
        ? String((input as { id: string }).id).slice(0, 64)
        : '?';
    let a: ActionBody;
    try {
      if (!cfg.actionSignersDir)
        throw new (await import('../../errors.js')).WaptError(
          'ACTION_SIGNER_UNTRUSTED',
          'action_signers_dir is not set in wapt-get.ini: no action is accepted',
        );
      a = verifyAction(input, { trust, hostUuid: cfg.hostUuid ?? '', now: now(), alreadyRun: (x) => log.has(x) });
    } catch (err) {
      const code = isWaptError(err) ? err.code : 'ACTION_INVALID';
      io.log.warn(`action ${id} refused: [${code}] ${(err as Error).message}`);
      run.outcomes.push({ id, result: 'REFUSED', error_code: code, message: (err as Error).message.slice(0, 300), at: now().toISOString() });
      continue;
    }
    await log.record(a.id, a.not_after, now());
    io.log.info(`running signed action ${a.id}: ${a.action} ${a.args.join(' ')}`.trimEnd());
    try {
      const r = await execute(cfg, io, a);
      const failed = r.steps.find((s) => s.status === 'ERROR');
      const at = now().toISOString();
      for (const s of r.steps) {
        run.events.push({
          op: 'action',
          package: s.package,
          version: s.version || null,
          result: s.status,
          error_code: s.error_code ?? null,
          at,
          action_id: a.id,
        });
      }
      run.outcomes.push({
        id: a.id,
        result: r.exitCode === 0 ? 'OK' : 'ERROR',
        error_code: r.exitCode === 0 ? null : (failed?.error_code ?? `EXIT_${r.exitCode}`),
        message: null,
        at,
      });
    } catch (err) {
      const code = isWaptError(err) ? err.code : 'INTERNAL';
      run.outcomes.push({ id: a.id, result: 'ERROR', error_code: code, message: (err as Error).message.slice(0, 300), at: now().toISOString() });
    }
  }
  return run;
}
