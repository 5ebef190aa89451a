// Entry of the hook child process (spawned by runner.ts with an IPC channel).
// Receives one HookJob, imports setup.mjs, calls the hook with the helpers and
// replies once. Everything the hook prints goes to this process's stdout/stderr,
// which the runner captures. process.exit() inside a hook skips the reply: the
// runner then reports the exit code.
import { realpathSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { guardRequire, type GuardData } from './import-guard.js';
import type { Hook } from './api.js';
import { createHelpers } from './helpers.js';
import type { ChildReady, HookJob, HookReply } from './protocol.js';

let persistent: Record<string, unknown> = {};
let replied = false;

function errorInfo(err: unknown): { message: string; stack?: string; code?: string } {
  if (err instanceof Error) {
    // A helper's stable code (SOURCE_DIGEST_MISMATCH…) travels to the runner, which decides whether to keep it.
    const code = (err as { code?: unknown }).code;
    return { message: err.message || err.name, stack: err.stack, ...(typeof code === 'string' && /^[A-Z][A-Z_]+$/.test(code) ? { code } : {}) };
  }
  return { message: String(err) };
}

/** Exit only once stdout/stderr are flushed: pipe writes can still be queued (the hook printed a lot). */
function exitWhenFlushed(): void {
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(0);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

function reply(msg: HookReply): void {
  if (replied) return;
  replied = true;
  try {
    process.send!(msg, exitWhenFlushed);
  } catch (e) {
    // e.g. a result that JSON cannot carry: report that instead.
    process.send!({ ok: false, error: errorInfo(e), persistent } satisfies HookReply, exitWhenFlushed);
  }
}

function fail(err: unknown): void {
  reply({ ok: false, error: errorInfo(err), persistent });
}

/**
 * Issue 8 §6: from here on, imports resolve only to node: built-ins and files of the hook's
 * own directory (or of this one): never to a node_modules another user planted above it.
 */
function confineImports(setupPath: string): void {
  const own = path.dirname(fileURLToPath(import.meta.url));
  const data: GuardData = { roots: [realpathSync(path.dirname(setupPath)), realpathSync(own)] };
  register(new URL('./import-guard.js', import.meta.url), { data });
  guardRequire(data);
}

async function runJob(job: HookJob): Promise<void> {
  persistent = { ...job.ctx.persistent };
  const ctx = { ...job.ctx, persistent };
  let mod: Record<string, unknown>;
  try {
    confineImports(job.setupPath);
    mod = (await import(pathToFileURL(job.setupPath).href)) as Record<string, unknown>;
  } catch (e) {
    const { message, stack } = errorInfo(e);
    return reply({ ok: false, error: { message: `cannot load ${job.setupPath}: ${message}`, stack }, persistent });
  }
  const fn = mod[job.hook];
  if (fn === undefined) return reply({ ok: true, missing: true, result: null, persistent });
  if (typeof fn !== 'function') return fail(new Error(`export "${job.hook}" is not a function`));
  try {
    const result = await (fn as Hook)(createHelpers(ctx));
    reply({ ok: true, missing: false, result: result === undefined ? null : result, persistent });
  } catch (e) {
    fail(e);
  }
}

if (typeof process.send !== 'function') {
  process.stderr.write('wapt-get hook child: must be started by the hook runner (no IPC channel)\n');
  process.exit(2);
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
// The parent went away: nobody waits for the answer.
process.on('disconnect', () => {
  if (!replied) process.exit(1);
});
process.once('message', (job: HookJob) => void runJob(job));
process.send({ ready: true } satisfies ChildReady);
