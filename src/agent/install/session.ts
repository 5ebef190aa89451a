// The frame every state-changing verb runs in: runtime opened (lock for writers), RUNNING
// leftovers of a killed run resolved first, the fetch/transaction deps wired, closed in finally.
import os from 'node:os';
import { worstExit } from '../../errors.js';
import type { WaptConfig } from '../config.js';
import { AgentRuntime, type AgentLog } from '../runtime.js';
import type { PlanStep } from '../resolver/index.js';
import type { FetchDeps } from './fetch.js';
import { recoverUnderLock, type Leftover } from './recover.js';
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

/** A plan's exit code: its worst error's, through the one table (errors.ts worstExit). */
export function exitFor(results: StepResult[]): number {
  return worstExit(results.filter((r) => r.status === 'ERROR').map((r) => r.error_code ?? 'INTERNAL'));
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
    // under the lock: orphaned hooks killed, then interrupted rows resolved, before anything else
    if (opts.write) leftovers = await recoverUnderLock(rt.db, io.log);
    return await fn(rt, leftovers);
  } finally {
    await rt.close();
  }
}

export function fetchDepsOf(rt: AgentRuntime, io?: VerbIo): FetchDeps {
  return { rt, progress: io?.progress };
}
