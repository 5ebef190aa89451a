// The setup.mjs runner (spec X1): real child processes, real files, real signals.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isWaptError, WaptError } from '../../src/errors.js';
import type { HookContext, HookName } from '../../src/agent/hooks/api.js';
import { assertRunnable, auditStatus, runHook, setupKind } from '../../src/agent/hooks/runner.js';
import { setupKindOf } from '../../src/package/index.js';

let tmp: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hooks-runner-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function ctxFor(pkgDir: string, extra: Partial<HookContext> = {}): HookContext {
  return {
    package: 'tis-test',
    version: '1.0-1',
    control: { package: 'tis-test', version: '1.0-1' },
    params: {},
    targetRoot: path.join(tmp, 'root'),
    packageDir: pkgDir,
    persistent: {},
    os: process.platform,
    arch: process.arch,
    ...extra,
  };
}

async function withSetup(source: string): Promise<string> {
  const dir = path.join(tmp, 'pkg');
  await mkdir(dir, { recursive: true });
  await mkdir(path.join(tmp, 'root'), { recursive: true });
  await writeFile(path.join(dir, 'setup.mjs'), source);
  return dir;
}

async function run(source: string, hook: HookName = 'install', extra: Partial<HookContext> = {}, timeoutMs = 20000) {
  const dir = await withSetup(source);
  return runHook({ setupPath: path.join(dir, 'setup.mjs'), hook, ctx: ctxFor(dir, extra), timeoutMs });
}

async function failure(p: Promise<unknown>): Promise<WaptError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WaptError) return e;
    throw e;
  }
  throw new Error('expected the hook to fail');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

test('X1: a hook that succeeds returns its result and the persistent data it remembered', async () => {
  const r = await run(
    `export async function install(h) { h.remember('installed_to', h.targetPath('/opt/x')); h.ctx.persistent.direct = 7; return { pkg: h.ctx.package, cwd: process.cwd() }; }`,
    'install',
    { persistent: { earlier: 'kept' } },
  );
  expect(r.status).toBe('ok');
  expect(r.result).toEqual({ pkg: 'tis-test', cwd: path.join(tmp, 'pkg') });
  expect(r.persistent).toEqual({ earlier: 'kept', installed_to: path.join(tmp, 'root', 'opt', 'x'), direct: 7 });
});

test('X1: persistent data from install is handed to uninstall', async () => {
  const r = await run(`export function uninstall(h) { return h.ctx.persistent.marker; }`, 'uninstall', { persistent: { marker: 'from-install' } });
  expect(r.result).toBe('from-install');
});

test('X1: a module without the requested hook reports missing-hook', async () => {
  const r = await run(`export function install() {}`, 'audit');
  expect(r.status).toBe('missing-hook');
  expect(r.result).toBeNull();
});

test('X1: hook throws -> ERR_HOOK_FAILED with the thrown message and the output so far', async () => {
  const e = await failure(run(`export function install(h) { h.log('before the fall'); throw new Error('disk says no'); }`));
  expect(e.code).toBe('ERR_HOOK_FAILED');
  expect(e.message).toContain('disk says no');
  expect(e.detail.output).toContain('before the fall');
  expect(String(e.detail.stack)).toContain('setup.mjs');
});

test('X1: unhandled rejection in a hook -> ERR_HOOK_FAILED', async () => {
  const e = await failure(run(`export function install() { Promise.reject(new Error('lost promise')); return new Promise(() => {}); }`));
  expect(e.code).toBe('ERR_HOOK_FAILED');
  expect(e.message).toContain('lost promise');
});

test('X1: setup.mjs with a syntax error -> ERR_HOOK_FAILED naming the file', async () => {
  const e = await failure(run(`export function install( {`));
  expect(e.code).toBe('ERR_HOOK_FAILED');
  expect(e.message).toContain('setup.mjs');
});

test('X1: an exported hook that is not a function -> ERR_HOOK_FAILED', async () => {
  const e = await failure(run(`export const install = 42;`));
  expect(e.code).toBe('ERR_HOOK_FAILED');
  expect(e.message).toContain('not a function');
});

test('X1: hook calls process.exit(3) -> ERR_EXIT_CODE with exitCode 3', async () => {
  const e = await failure(run(`export function install() { console.log('bye'); process.exit(3); }`));
  expect(e.code).toBe('ERR_EXIT_CODE');
  expect(e.message).toContain('exit code 3');
  expect(e.detail.exitCode).toBe(3);
  expect(e.detail.output).toContain('bye');
});

test('X1: hook process killed by a signal -> ERR_EXIT_CODE naming the signal', async () => {
  const e = await failure(run(`export function install() { process.kill(process.pid, 'SIGKILL'); }`));
  expect(e.code).toBe('ERR_EXIT_CODE');
  expect(e.detail.signal).toBe('SIGKILL');
  expect(e.detail.exitCode).toBeNull();
});

test('X1: hook that hangs with a grandchild -> ERR_TIMEOUT, and the whole process tree is killed', async () => {
  const pidFile = path.join(tmp, 'grandchild.pid');
  const src = `import { spawn } from 'node:child_process';
    import { writeFileSync } from 'node:fs';
    export function install() {
      const g = spawn('sleep', ['300'], { stdio: 'ignore' });
      writeFileSync(${JSON.stringify(pidFile)}, String(g.pid));
      console.log('started', g.pid);
      return new Promise(() => {});
    }`;
  const started = Date.now();
  const e = await failure(run(src, 'install', {}, 1500));
  expect(e.code).toBe('ERR_TIMEOUT');
  expect(e.message).toContain('1.5s');
  expect(e.detail.output).toContain('started');
  expect(Date.now() - started).toBeLessThan(10000);
  const pid = Number(await readFile(pidFile, 'utf8'));
  expect(pid).toBeGreaterThan(0);
  // SIGKILL delivery is asynchronous; give the kernel a moment to reap.
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  expect(alive(pid)).toBe(false);
});

test('X1: a hook that ignores SIGTERM is SIGKILLed after the grace period', async () => {
  const dir = await withSetup(
    `export function install() { process.on('SIGTERM', () => console.log('ignoring TERM')); setInterval(() => {}, 1000); return new Promise(() => {}); }`,
  );
  const started = Date.now();
  const e = await failure(runHook({ setupPath: path.join(dir, 'setup.mjs'), hook: 'install', ctx: ctxFor(dir), timeoutMs: 800, killGraceMs: 500 }));
  expect(e.code).toBe('ERR_TIMEOUT');
  expect(e.detail.output).toContain('ignoring TERM');
  expect(Date.now() - started).toBeGreaterThanOrEqual(1300);
});

test('X1: stdout and stderr (console, helpers, subprocesses) are captured and streamed', async () => {
  const dir = await withSetup(`export async function install(h) {
      console.log('from console');
      h.log('from helpers.log');
      h.warn('careful');
      await h.run('sh', ['-c', 'echo sub-out; echo sub-err >&2']);
    }`);
  const chunks: Array<[string, string]> = [];
  const r = await runHook({
    setupPath: path.join(dir, 'setup.mjs'),
    hook: 'install',
    ctx: ctxFor(dir),
    timeoutMs: 20000,
    onOutput: (c, s) => chunks.push([s, c]),
  });
  for (const line of ['from console', 'from helpers.log', 'warning: careful', 'sub-out', 'sub-err']) expect(r.output).toContain(line);
  const streamed = (s: string) =>
    chunks
      .filter(([k]) => k === s)
      .map(([, c]) => c)
      .join('');
  expect(streamed('stdout')).toContain('sub-out');
  expect(streamed('stderr')).toContain('sub-err');
  expect(streamed('stderr')).toContain('warning: careful');
});

test('X1: captured output is bounded to the last maxOutput characters', async () => {
  const dir = await withSetup(`export function install() { for (let i = 0; i < 2000; i++) console.log('line ' + i); }`);
  const e = await runHook({ setupPath: path.join(dir, 'setup.mjs'), hook: 'install', ctx: ctxFor(dir), timeoutMs: 20000, maxOutput: 1000 });
  expect(e.output.length).toBeLessThanOrEqual(1000);
  expect(e.output).toContain('line 1999');
  expect(e.output).not.toContain('line 10\n');
});

test('X1: a missing setup.mjs file -> ERR_HOOK_FAILED (cannot load)', async () => {
  await mkdir(path.join(tmp, 'root'), { recursive: true });
  const e = await failure(runHook({ setupPath: path.join(tmp, 'nope', 'setup.mjs'), hook: 'install', ctx: ctxFor(path.join(tmp, 'nope')), timeoutMs: 20000 }));
  expect(e.code).toBe('ERR_HOOK_FAILED');
  expect(e.message).toContain('cannot load');
});

test('W-D5/X1: setup kind from member names and from a directory', async () => {
  expect(setupKindOf(['WAPT/control', 'setup.py'])).toBe('py');
  expect(setupKindOf(['setup.py', 'setup.mjs'])).toBe('mjs');
  expect(setupKindOf(['WAPT/control', 'data/setup.py'])).toBe('none');
  expect(setupKindOf(['WAPT/control', 'setup.mjs'])).not.toBe('none');
  expect(setupKindOf(['WAPT/control'])).toBe('none');
  const dir = path.join(tmp, 'd');
  await mkdir(dir);
  expect(await setupKind(dir)).toBe('none');
  await writeFile(path.join(dir, 'setup.py'), 'def install(): pass\n');
  expect(await setupKind(dir)).toBe('py');
  await writeFile(path.join(dir, 'setup.mjs'), 'export function install() {}\n');
  expect(await setupKind(dir)).toBe('mjs');
});

test('X1: a package with only setup.py cannot be installed -> SETUP_PY_UNSUPPORTED', () => {
  let caught: unknown;
  try {
    assertRunnable('py', 'tis-hello');
  } catch (e) {
    caught = e;
  }
  expect(isWaptError(caught, 'SETUP_PY_UNSUPPORTED')).toBe(true);
  expect((caught as Error).message).toContain('tis-hello');
  expect(() => assertRunnable('mjs')).not.toThrow();
  expect(() => assertRunnable('none')).not.toThrow();
});

test('W-G2: audit results normalise to OK/WARNING/ERROR/UNKNOWN', async () => {
  const r = await run(`export function audit() { return 'warning'; }`, 'audit');
  expect(auditStatus(r.result)).toBe('WARNING');
  expect(auditStatus('OK')).toBe('OK');
  expect(auditStatus(undefined)).toBe('UNKNOWN');
  expect(auditStatus('fine')).toBe('UNKNOWN');
});
