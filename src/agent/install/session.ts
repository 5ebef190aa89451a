// The frame every state-changing verb runs in: runtime opened (lock for writers), RUNNING
// leftovers of a killed run resolved first, the fetch/transaction deps wired, closed in finally.
import os from 'node:os';
import { EXIT } from '../../errors.js';
import type { WaptConfig } from '../config.js';
import { AgentRuntime, type AgentLog } from '../runtime.js';
import type { PlanStep } from '../resolver/index.js';
import type { FetchDeps } from './fetch.js';
import { recoverInterrupted, sweepStaleTempDirs, type Leftover } from './recover.js';
import type { PlanJson } from './report.js';
import type { StepResult } from './transaction.js';

export interface VerbIo {
  log: AgentLog;
  env: NodeJS.ProcessEnv;
  step?: (index: number, total: number, step: PlanStep) => void;
  result?: (r: StepResult) => void;
  /** Live hook output. */
  output?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  progress?: (pkg: string, done: number, total: number | null) => void;
}

export interface VerbOptions {
  dryRun?: boolean;
  lockTimeoutMs?: number;
  force?: boolean;
  params?: Record<string, unknown>;
  /** Library-only knobs (tests, embedding). */
  maxExtractBytes?: number;
  tmpRoot?: string;
  killGraceMs?: number;
}

export interface VerbOutcome {
  plan?: PlanJson;
  results: StepResult[];
  leftovers: Leftover[];
  exitCode: number;
  dryRun: boolean;
}

export function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}

export function exitFor(results: StepResult[]): number {
  return results.some((r) => r.status === 'ERROR') ? EXIT.INSTALL_FAILED : EXIT.OK;
}

/**
 * Opens the runtime; with `write` it takes the run lock and resolves leftovers of a
 * killed run before `fn` (a dry run takes no lock and writes nothing).
 */
export async function withRuntime<T>(
  config: WaptConfig,
  io: VerbIo,
  opts: { write: boolean; lockTimeoutMs?: number },
  fn: (rt: AgentRuntime, leftovers: Leftover[]) => Promise<T>,
): Promise<T> {
  const rt = await AgentRuntime.open(config, { lock: opts.write, lockTimeoutMs: opts.lockTimeoutMs, env: io.env, log: io.log });
  try {
    let leftovers: Leftover[] = [];
    if (opts.write) {
      leftovers = await recoverInterrupted(rt.db);
      const onKilled = (pgid: number, dir: string) => io.log.warn(`killed the setup hook (process group ${pgid}) left running by a killed run (${dir})`);
      for (const d of await sweepStaleTempDirs(undefined, undefined, onKilled)) io.log.debug(`removed ${d}, left by a killed run`);
      for (const l of leftovers) {
        io.log.warn(
          `${l.package} ${l.version} was left ${l.status} by a killed run (pid ${l.pid ?? '?'}); marked ERROR (ERR_INTERRUPTED), upgrade will retry it`,
        );
      }
    }
    return await fn(rt, leftovers);
  } finally {
    await rt.close();
  }
}

export function fetchDepsOf(rt: AgentRuntime, io?: VerbIo): FetchDeps {
  return { rt, progress: io?.progress };
}
