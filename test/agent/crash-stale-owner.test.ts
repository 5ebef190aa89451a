// Issue 9 cases 6 and 8: what a dead or recycled owner left behind is resolved by the next
// run, through the real CLI against a real nginx repository. A RUNNING row whose pid now
// belongs to another program (pid reuse after a reboot) is an interrupted operation under
// the lock; a stale lock naming another host name (the machine was renamed) or a leftover
// `.break` file of a dead run never blocks the next run.
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanupPki } from '../helpers/pki.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';

let w: AgentEnv;
let otherProgram: ChildProcess;
const lockPath = () => path.join(path.dirname(w.dbPath), 'wapt-get.lock');

beforeAll(async () => {
  w = await makeAgentEnv();
  await w.publish({ name: 'tis-six' }, { name: 'tis-eight' });
  expect((await w.run(['update'])).code).toBe(0);
  expect((await w.run(['install', 'tis-six'])).code).toBe(0);
  // a live program that is not wapt-get: the pid a reboot may hand to whatever starts first
  otherProgram = spawn('sleep', ['300'], { stdio: 'ignore' });
});

afterAll(async () => {
  otherProgram?.kill('SIGKILL');
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

async function leaveRunning(name: string, pid: number): Promise<void> {
  const db = await w.db();
  db.installed.setStatus(name, 'RUNNING', { pid });
  await db.persist();
  db.close();
}

async function row(name: string) {
  const db = await w.db();
  try {
    return db.installed.get(name);
  } finally {
    db.close();
  }
}

/** A pid that existed a moment ago and is gone now. */
async function deadPid(): Promise<number> {
  const p = spawn('true', { stdio: 'ignore' });
  await new Promise((r) => p.on('exit', r));
  return p.pid!;
}

test('issue 9 case 6: a RUNNING row whose pid now runs another program → upgrade resolves it (ERR_INTERRUPTED) and retries it, never "nothing to do"', async () => {
  await leaveRunning('tis-six', otherProgram.pid!);
  const up = await w.run(['upgrade'], { json: true });
  expect(up.code).toBe(0);
  const out = JSON.parse(up.stdout);
  expect(out.leftovers).toEqual([{ package: 'tis-six', version: '1.0-1', status: 'RUNNING', pid: otherProgram.pid, action: 'install' }]);
  expect(out.results).toEqual([{ package: 'tis-six', version: '1.0-1', action: 'reinstall', status: 'OK' }]);
  expect(await row('tis-six')).toMatchObject({ install_status: 'OK', pid: null, error_code: null });
});

test('issue 9 case 6: the same row under install → resolved and re-installed, never "already installed"', async () => {
  await leaveRunning('tis-six', otherProgram.pid!);
  const r = await w.run(['install', 'tis-six'], { json: true });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`tis-six 1.0-1 was left RUNNING by a killed run (pid ${otherProgram.pid})`);
  expect(JSON.parse(r.stdout).results).toEqual([{ package: 'tis-six', version: '1.0-1', action: 'reinstall', status: 'OK' }]);
  expect(await row('tis-six')).toMatchObject({ install_status: 'OK', pid: null });
});

test('issue 9 case 8: a stale lock recorded under another host name (machine renamed) and a dead pid is taken over at once', async () => {
  const pid = await deadPid();
  const holder = { pid, startedAt: new Date().toISOString(), hostname: `${os.hostname()}-before-rename`, command: 'wapt-get upgrade', token: 'a'.repeat(16) };
  await writeFile(lockPath(), JSON.stringify(holder) + '\n');
  const t0 = Date.now();
  const r = await w.run(['install', '--lock-timeout', '20', 'tis-eight'], { json: true });
  expect(r.code).toBe(0);
  expect(Date.now() - t0).toBeLessThan(8000);
  expect(r.stderr).toContain(`took over stale lock ${lockPath()}: its holder (pid ${pid} (recorded on host ${holder.hostname}`);
  expect(await readdir(path.dirname(lockPath()))).not.toContain('wapt-get.lock');
});

test('issue 9 case 8: a leftover .break file of a dead run does not add 30 s to the takeover', async () => {
  const pid = await deadPid();
  const stale = { pid, startedAt: new Date().toISOString(), hostname: os.hostname(), command: 'wapt-get upgrade', token: 'b'.repeat(16) };
  await writeFile(lockPath(), JSON.stringify(stale) + '\n');
  const breaker = { ...stale, pid: await deadPid(), token: 'c'.repeat(16) };
  await writeFile(`${lockPath()}.break`, JSON.stringify(breaker) + '\n'); // fresh mtime: a crash inside a takeover just now
  const t0 = Date.now();
  const r = await w.run(['upgrade', '--lock-timeout', '20'], { json: true });
  expect(r.code).toBe(0);
  expect(Date.now() - t0).toBeLessThan(8000);
  expect(r.stderr).toContain(`took over stale lock ${lockPath()}: its holder (pid ${pid}) is no longer running`);
  const left = await readdir(path.dirname(lockPath()));
  expect(left.filter((f) => f.startsWith('wapt-get.lock'))).toEqual([]);
});
