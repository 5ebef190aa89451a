// Runs one hook of a package's setup.mjs in a child Node process (spec X1).
// The child leads its own process group so a timeout kills everything the hook
// started (SIGTERM to the group, then SIGKILL after a grace period). Output is
// captured (bounded) and streamed; every failure is a WaptError whose
// detail.output holds what the hook printed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { WaptError } from '../../errors.js';
import type { AuditResult, HookContext, HookName } from './api.js';
import { childEntry } from './child-entry.js';
import type { ChildMessage, HookJob, HookReply } from './protocol.js';
import { Tail } from './tail.js';
import { killTreeWindows } from './windows/process-tree.js';

export { assertRunnable, findSetup, setupKind, type SetupKind } from './setup-kind.js';

export interface RunHookOptions {
  /** Absolute path of the package's setup.mjs. */
  setupPath: string;
  hook: HookName;
  ctx: HookContext;
  timeoutMs: number;
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Between SIGTERM and SIGKILL on timeout; default 3000 ms. */
  killGraceMs?: number;
  /** Characters of output kept; default 1 MiB. */
  maxOutput?: number;
  /** Called with the hook's pid (= its process group) once it is spawned. */
  onSpawn?: (pid: number) => void;
}

export interface HookOutcome {
  status: 'ok' | 'missing-hook';
  /** The hook's return value (null when it returned nothing). */
  result: unknown;
  /** ctx.persistent plus what the hook remember()ed. */
  persistent: Record<string, unknown>;
  output: string;
}

/** How long to wait for stdio to close after the child exited (a hook may leak fds to a setsid'd process). */
const DRAIN_MS = 2000;

export function runHook(opts: RunHookOptions): Promise<HookOutcome> {
  const { hook, ctx } = opts;
  const env = { ...process.env };
  // Our own node flags (jest's --experimental-vm-modules, a user's --require) are not the hook's business.
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [childEntry()], {
    cwd: existsSync(ctx.packageDir) ? ctx.packageDir : ctx.targetRoot,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  });
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  const output = new Tail(opts.maxOutput ?? 1 << 20);
  const pipe = (stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr'): void => {
    const dec = new StringDecoder('utf8');
    stream?.on('data', (b: Buffer) => {
      const s = dec.write(b);
      if (!s) return;
      output.push(s);
      opts.onOutput?.(s, name);
    });
  };
  pipe(child.stdout, 'stdout');
  pipe(child.stderr, 'stderr');

  const killGroup = (sig: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      // Windows has no process groups: taskkill /T /F ends the hook and every process below it.
      if (process.platform === 'win32') killTreeWindows(child.pid);
      else process.kill(-child.pid, sig);
    } catch {
      /* ESRCH: the group is already gone */
    }
  };
  // If wapt-get itself exits or is interrupted mid-hook (Ctrl-C, a service stop), do not
  // leave the hook's tree running unsupervised; then let the signal take its usual course.
  const onParentExit = (): void => killGroup('SIGKILL');
  const onParentSignal = (sig: NodeJS.Signals): void => {
    unwatchParent();
    killGroup('SIGKILL');
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  const parentSignals: NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const unwatchParent = (): void => {
    process.removeListener('exit', onParentExit);
    for (const s of parentSignals) process.removeListener(s, onParentSignal);
  };
  process.on('exit', onParentExit);
  for (const s of parentSignals) process.on(s, onParentSignal);

  return new Promise<HookOutcome>((resolve, reject) => {
    let reply: HookReply | undefined;
    let timedOut = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;

    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      graceTimer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 3000);
    }, opts.timeoutMs);

    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      clearTimeout(drainTimer);
      unwatchParent();
      const text = output.toString();
      const base = { output: text, outputTruncated: output.truncated, hook, package: ctx.package };
      const code = exit?.code ?? null;
      const signal = exit?.signal ?? null;
      if (timedOut) {
        const secs = Math.round(opts.timeoutMs / 100) / 10;
        reject(
          new WaptError('ERR_TIMEOUT', `${hook} hook of ${ctx.package} ran past its ${secs}s timeout and was killed`, {
            detail: { ...base, timeoutMs: opts.timeoutMs },
          }),
        );
      } else if (reply && !reply.ok) {
        const helperCode = reply.error.code === 'SOURCE_DIGEST_MISMATCH' ? reply.error.code : 'ERR_HOOK_FAILED';
        reject(
          new WaptError(helperCode, `${hook} hook of ${ctx.package} failed: ${reply.error.message}`, {
            detail: { ...base, stack: reply.error.stack, persistent: reply.persistent },
          }),
        );
      } else if (reply && reply.ok && code === 0) {
        resolve({ status: reply.missing ? 'missing-hook' : 'ok', result: reply.result, persistent: reply.persistent, output: text });
      } else {
        const how = code === null ? `killed by signal ${signal}` : `exit code ${code}`;
        reject(
          new WaptError('ERR_EXIT_CODE', `${hook} hook of ${ctx.package} ended without an answer: ${how}`, { detail: { ...base, exitCode: code, signal } }),
        );
      }
    };

    child.on('message', (m: ChildMessage) => {
      if ('ready' in m) {
        const job: HookJob = { setupPath: opts.setupPath, hook, ctx };
        child.send(job, () => {
          /* a send error means the child died; 'exit' reports it */
        });
      } else reply ??= m;
    });
    child.on('error', (e) => {
      // spawn itself failed (no pid): nothing ran.
      if (child.pid !== undefined) return;
      settled = true;
      clearTimeout(timer);
      unwatchParent();
      reject(new WaptError('INTERNAL', `cannot start the hook process: ${e.message}`, { cause: e, detail: { output: '' } }));
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Leftovers of the hook in its group would hold our pipes open and outlive the install.
      killGroup('SIGKILL');
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, DRAIN_MS);
    });
    child.on('close', finish);
  });
}

/** Normalises what an audit hook returned (W-G2); anything unexpected is UNKNOWN. */
export function auditStatus(result: unknown): AuditResult {
  const s = typeof result === 'string' ? result.toUpperCase() : '';
  return s === 'OK' || s === 'WARNING' || s === 'ERROR' ? s : 'UNKNOWN';
}
