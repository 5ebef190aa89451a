// The run lock: two wapt-get runs never interleave. Tested in-process (two acquirers
// in one process) and against real child processes running the same compiled module.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { acquireLock, isPidAlive, type LockHolder } from '../../src/agent/lock.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
let dir: string;
let lockPath: string;
let modDir: string;
const children: ChildProcess[] = [];

/** lock.ts and errors.ts transpiled into a temp dir, so child processes run the real code. */
beforeAll(async () => {
  modDir = await fs.mkdtemp(path.join(os.tmpdir(), 'wapt-lockmod-'));
  await fs.writeFile(path.join(modDir, 'package.json'), '{"type":"module"}');
  for (const rel of ['errors.ts', 'agent/lock.ts']) {
    const out = ts.transpileModule(await fs.readFile(path.join(SRC, rel), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    await fs.mkdir(path.dirname(path.join(modDir, rel)), { recursive: true });
    await fs.writeFile(path.join(modDir, rel.replace(/\.ts$/, '.js')), out.outputText);
  }
  await fs.writeFile(
    path.join(modDir, 'hold.mjs'),
    `import { acquireLock } from './agent/lock.js';
const lock = await acquireLock(process.argv[2], { timeoutMs: 10000, command: 'holder-child' });
if (process.argv[3] === 'exit') process.exit(0); // no release: the exit handler must clean up
process.stdout.write('held\\n');
process.on('SIGTERM', async () => { await lock.release(); process.exit(0); });
setInterval(() => {}, 1000);
`,
  );
  await fs.writeFile(
    path.join(modDir, 'race.mjs'),
    `import { promises as fs } from 'node:fs';
import { acquireLock } from './agent/lock.js';
const [lockPath, marker, rounds] = process.argv.slice(2);
let violations = 0, done = 0;
for (let i = 0; i < Number(rounds); i++) {
  const lock = await acquireLock(lockPath, { timeoutMs: 60000, command: 'race-' + process.pid });
  try { await fs.writeFile(marker, String(process.pid), { flag: 'wx' }); } catch { violations++; }
  await new Promise((r) => setTimeout(r, 3));
  await fs.rm(marker, { force: true });
  await lock.release();
  done++;
}
process.stdout.write(JSON.stringify({ violations, done }));
`,
  );
});
afterAll(async () => {
  await fs.rm(modDir, { recursive: true, force: true });
});
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wapt-lock-'));
  lockPath = path.join(dir, 'wapt-get.lock');
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fs.rm(dir, { recursive: true, force: true });
});

function start(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return c;
}
const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.on('exit', () => r())));
const output = (c: ChildProcess) =>
  new Promise<string>((resolve) => {
    let s = '';
    c.stdout!.on('data', (d) => (s += d));
    c.on('close', () => resolve(s));
  });
const firstLine = (c: ChildProcess) => new Promise<void>((r) => c.stdout!.once('data', () => r()));

async function deadPid(): Promise<number> {
  const c = start(process.execPath, ['-e', '']);
  await exited(c);
  return c.pid!;
}

function fakeHolder(pid: number, startedAt = new Date()): LockHolder {
  return { pid, startedAt: startedAt.toISOString(), hostname: os.hostname(), command: 'wapt-get install tis-x', token: 'f'.repeat(16) };
}

describe('acquireLock / release', () => {
  it('creates the lock with our pid and command, release removes it', async () => {
    const lock = await acquireLock(lockPath, { timeoutMs: 0, command: 'wapt-get update' });
    const onDisk = JSON.parse(await fs.readFile(lockPath, 'utf8'));
    expect(onDisk).toMatchObject({ pid: process.pid, command: 'wapt-get update', hostname: os.hostname(), token: lock.holder.token });
    await lock.release();
    await expect(fs.stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
    await lock.release(); // idempotent
  });

  it('a second acquirer waits, calls onWait once, then fails with LOCK_BUSY naming holder, command and start', async () => {
    const first = await acquireLock(lockPath, { timeoutMs: 0, command: 'wapt-get upgrade' });
    const waits: LockHolder[] = [];
    const t0 = Date.now();
    const err = await acquireLock(lockPath, { timeoutMs: 400, onWait: (h) => waits.push(h) }).catch((e) => e);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
    expect(err).toMatchObject({ code: 'LOCK_BUSY' });
    expect(err.message).toContain(`pid ${process.pid}`);
    expect(err.message).toContain('wapt-get upgrade');
    expect(err.message).toContain(first.holder.startedAt);
    expect(waits).toHaveLength(1);
    expect(waits[0].token).toBe(first.holder.token);
    await first.release();
  });

  it('a waiter gets the lock as soon as the holder releases', async () => {
    const first = await acquireLock(lockPath, { timeoutMs: 0 });
    setTimeout(() => void first.release(), 300);
    const second = await acquireLock(lockPath, { timeoutMs: 5000 });
    expect(JSON.parse(await fs.readFile(lockPath, 'utf8')).token).toBe(second.holder.token);
    await second.release();
  });

  it("release by a non-owner leaves the current holder's lock in place", async () => {
    const mine = await acquireLock(lockPath, { timeoutMs: 0 });
    const other = JSON.stringify(fakeHolder(process.ppid));
    await fs.writeFile(lockPath, other); // someone else's lock now sits there
    await mine.release();
    expect(await fs.readFile(lockPath, 'utf8')).toBe(other);
  });

  it('concurrent acquirers in one process never hold it together', async () => {
    const marker = path.join(dir, 'inside');
    let violations = 0;
    const worker = async () => {
      for (let i = 0; i < 5; i++) {
        const lock = await acquireLock(lockPath, { timeoutMs: 30000 });
        await fs.writeFile(marker, 'x', { flag: 'wx' }).catch(() => violations++);
        await new Promise((r) => setTimeout(r, 2));
        await fs.rm(marker, { force: true });
        await lock.release();
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    expect(violations).toBe(0);
  });
});

describe('stale locks', () => {
  it('a lock left by a dead pid is taken over, with a warning naming that pid', async () => {
    const pid = await deadPid();
    expect(isPidAlive(pid)).toBe(false);
    await fs.writeFile(lockPath, JSON.stringify(fakeHolder(pid)));
    const warnings: string[] = [];
    const lock = await acquireLock(lockPath, { timeoutMs: 0, onWarning: (m) => warnings.push(m) });
    expect(JSON.parse(await fs.readFile(lockPath, 'utf8')).token).toBe(lock.holder.token);
    expect(warnings).toEqual([expect.stringContaining(`pid ${pid}`)]);
    expect(await fs.readdir(dir)).toEqual(['wapt-get.lock']); // no takeover temp or break file left
    await lock.release();
  });

  it('a lock written by a live child process is honoured → LOCK_BUSY naming the child', async () => {
    const child = start(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    await fs.writeFile(lockPath, JSON.stringify(fakeHolder(child.pid!)));
    const err = await acquireLock(lockPath, { timeoutMs: 300 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'LOCK_BUSY', detail: { pid: child.pid } });
  });

  it('an old lock held by a live node process is still honoured (a long install is not stale)', async () => {
    const child = start(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    await fs.writeFile(lockPath, JSON.stringify(fakeHolder(child.pid!, new Date(Date.now() - 7 * 3600_000))));
    const err = await acquireLock(lockPath, { timeoutMs: 200 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'LOCK_BUSY' });
  });

  it('an old lock whose pid now belongs to a non-node program (pid reuse) is taken over', async () => {
    const sleeper = start('sleep', ['30']);
    await fs.writeFile(lockPath, JSON.stringify(fakeHolder(sleeper.pid!, new Date(Date.now() - 7 * 3600_000))));
    const warnings: string[] = [];
    const lock = await acquireLock(lockPath, { timeoutMs: 0, onWarning: (m) => warnings.push(m) });
    expect(warnings[0]).toMatch(/another program/);
    await lock.release();
  });

  it('the same non-node holder within staleAfterMs is honoured', async () => {
    const sleeper = start('sleep', ['30']);
    await fs.writeFile(lockPath, JSON.stringify(fakeHolder(sleeper.pid!, new Date(Date.now() - 60_000))));
    const err = await acquireLock(lockPath, { timeoutMs: 0 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'LOCK_BUSY' });
  });

  it('an unreadable (empty) lock file is honoured while fresh (being written) and taken over when old', async () => {
    await fs.writeFile(lockPath, '');
    const err = await acquireLock(lockPath, { timeoutMs: 200 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'LOCK_BUSY', message: expect.stringContaining('unreadable') });
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(lockPath, old, old);
    const lock = await acquireLock(lockPath, { timeoutMs: 0 });
    expect(JSON.parse(await fs.readFile(lockPath, 'utf8')).token).toBe(lock.holder.token);
    await lock.release();
  });
});

describe('real child processes running the compiled lock module', () => {
  it('a child holding the lock blocks us; after it is SIGKILLed its lock is taken over', async () => {
    const child = start(process.execPath, [path.join(modDir, 'hold.mjs'), lockPath]);
    await firstLine(child);
    const busy = await acquireLock(lockPath, { timeoutMs: 300 }).catch((e) => e);
    expect(busy).toMatchObject({ code: 'LOCK_BUSY', detail: { pid: child.pid, command: 'holder-child' } });
    child.kill('SIGKILL');
    await exited(child);
    const warnings: string[] = [];
    const lock = await acquireLock(lockPath, { timeoutMs: 2000, onWarning: (m) => warnings.push(m) });
    expect(warnings[0]).toContain(`pid ${child.pid}`);
    await lock.release();
  });

  it('a child that releases on SIGTERM hands the lock to our waiting acquire', async () => {
    const child = start(process.execPath, [path.join(modDir, 'hold.mjs'), lockPath]);
    await firstLine(child);
    const waiting = acquireLock(lockPath, { timeoutMs: 10_000 });
    setTimeout(() => child.kill('SIGTERM'), 200);
    const lock = await waiting;
    expect(child.exitCode ?? (await exited(child), child.exitCode)).toBe(0);
    await lock.release();
  });

  it('a child that exits without release() leaves no lock (exit handler)', async () => {
    const child = start(process.execPath, [path.join(modDir, 'hold.mjs'), lockPath, 'exit']);
    await exited(child);
    expect(child.exitCode).toBe(0);
    await expect(fs.stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('four processes racing (starting from a stale lock) never hold it at the same time', async () => {
    await fs.writeFile(lockPath, JSON.stringify(fakeHolder(await deadPid())));
    const marker = path.join(dir, 'inside');
    const racers = Array.from({ length: 4 }, () => start(process.execPath, [path.join(modDir, 'race.mjs'), lockPath, marker, '15']));
    const results = (await Promise.all(racers.map(output))).map((s) => JSON.parse(s));
    expect(results).toEqual(Array(4).fill({ violations: 0, done: 15 }));
    await expect(fs.stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
