// Issue 9, case 14 (smaller faults): `update --lock-timeout`; with --json an unknown option
// is a JSON error; a body gzipped unasked is named (HTTP_CONTENT_ENCODING) for the index and
// for a package; SIGINT/SIGTERM of wapt-get kills the hook's process group before it exits.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupPki } from '../helpers/pki.js';
import { makeAgentEnv, waitForFile, type AgentEnv } from '../helpers/agent-env.js';
import { collect } from '../helpers/agent-env.js';
import { startFaultServer, type FaultServer } from './fault-server.js';

let w: AgentEnv;
let srv: FaultServer;

/** A hook that starts `sleep 300` in its own process group (no detached), records its pid, and waits. */
const hanging = (name: string) => `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
export async function install(h) {
  const c = spawn('sleep', ['300'], { stdio: 'ignore' });
  writeFileSync(h.targetPath('/${name}.pid'), String(c.pid));
  await new Promise(() => {});
}
export async function uninstall(h) {}
`;

beforeAll(async () => {
  w = await makeAgentEnv();
  await w.publish({ name: 'tis-zipped' }, { name: 'tis-hang-term', setup: hanging('tis-hang-term') }, { name: 'tis-hang-int', setup: hanging('tis-hang-int') });
  srv = await startFaultServer({ root: w.repoDir, cert: w.tls.serverCert, key: w.tls.serverKey });
  expect((await w.run(['update'])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  const name = sig === 'SIGTERM' ? 'tis-hang-term' : 'tis-hang-int';
  test(`case 14: ${sig} of wapt-get during a hook kills the hook's process group before exiting`, async () => {
    const pidFile = path.join(w.userRoot, `${name}.pid`);
    const child = w.spawn(['install', name]);
    const done = collect(child, 60_000);
    await waitForFile(pidFile);
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(sleeper)).toBe(true);

    child.kill(sig);
    const r = await done;
    expect(r.signal ?? r.code).toBeTruthy(); // it ended
    // the hook's children are gone now, not at the next write run
    expect(await gone(sleeper, 3_000)).toBe(true);
  }, 60_000);
}

test('case 14: update --lock-timeout 1 gives up after ~1 s while another run holds the lock (not the ini lock_timeout of 10 s)', async () => {
  await w.publish({ name: 'tis-hang-lock', setup: hanging('tis-hang-lock') });
  expect((await w.run(['update'])).code).toBe(0);
  const pidFile = path.join(w.userRoot, 'tis-hang-lock.pid');
  const child = w.spawn(['install', 'tis-hang-lock']);
  const done = collect(child, 60_000);
  await waitForFile(pidFile);
  try {
    const t0 = Date.now();
    const busy = await w.run(['update', '--lock-timeout', '1'], { json: true });
    expect(busy.code).toBe(5);
    expect(JSON.parse(busy.stdout).error.code).toBe('LOCK_BUSY');
    expect(Date.now() - t0).toBeLessThan(6_000);
    // the run that gave up never touched the running one's hook
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
  } finally {
    child.kill('SIGTERM');
    await done;
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    if (alive(sleeper)) process.kill(sleeper, 'SIGKILL');
  }
}, 60_000);

test('case 14: --json with an unknown option prints one JSON error (USAGE, exit 2)', async () => {
  const r = await w.run(['update', '--no-such-option'], { json: true });
  expect(r.code).toBe(2);
  const doc = JSON.parse(r.stdout);
  expect(doc.error.code).toBe('USAGE');
  expect(doc.error.message).toContain('--no-such-option');
});

test('case 14: a Packages index gzipped unasked → HTTP_CONTENT_ENCODING naming the encoding', async () => {
  await w.configure({ repo_url: srv.url });
  try {
    await w.publish({ name: 'tis-changed' }); // no 304: the index is fetched
    srv.faultFor = (p) => (p === '/Packages' ? { kind: 'gzip' } : undefined);
    const r = await w.run(['update'], { json: true });
    expect(r.code).toBe(4);
    const err = JSON.parse(r.stdout).error;
    expect(err.code).toBe('HTTP_CONTENT_ENCODING');
    expect(err.detail.encoding).toBe('gzip');
    expect(err.message).toContain('Content-Encoding: gzip');
  } finally {
    srv.faultFor = () => undefined;
    await w.configure();
  }
});

test('case 14: a package gzipped unasked → ERR_DOWNLOAD_PACK caused by HTTP_CONTENT_ENCODING, not a digest or zip error', async () => {
  await w.configure({ repo_url: srv.url });
  try {
    expect((await w.run(['update'])).code).toBe(0);
    srv.faultFor = (p) => (p.endsWith('.wapt') ? { kind: 'gzip' } : undefined);
    const r = await w.run(['install', 'tis-zipped'], { json: true });
    expect(r.code).toBe(4);
    const res = JSON.parse(r.stdout).results[0];
    expect(res).toMatchObject({ package: 'tis-zipped', status: 'ERROR', error_code: 'ERR_DOWNLOAD_PACK' });
    expect(res.message).toContain('[HTTP_CONTENT_ENCODING]');
    expect(res.message).not.toMatch(/ERR_BAD_DIGEST|ZIP_INVALID/);
    expect(existsSync(path.join(w.cacheDir, 'tis-zipped_1.0-1.wapt'))).toBe(false);
  } finally {
    srv.faultFor = () => undefined;
    await w.configure();
  }
});

test('case 14 (documented in README): a process a hook starts without detached ends with the hook; detached and unref()ed it stays', async () => {
  const setup = `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
export async function install(h) {
  const plain = spawn('sleep', ['300'], { stdio: 'ignore' });
  const service = spawn('sleep', ['301'], { stdio: 'ignore', detached: true });
  service.unref();
  writeFileSync(h.targetPath('/svc.pids'), plain.pid + ' ' + service.pid);
}
export async function uninstall(h) {}
`;
  await w.publish({ name: 'tis-service', setup });
  expect((await w.run(['update'])).code).toBe(0);
  const r = await w.run(['install', 'tis-service'], { json: true });
  expect(r.code).toBe(0);
  const [plain, service] = readFileSync(path.join(w.userRoot, 'svc.pids'), 'utf8').split(' ').map(Number);
  try {
    expect(await gone(plain!, 3_000)).toBe(true);
    expect(alive(service!)).toBe(true);
  } finally {
    if (alive(service!)) process.kill(service!, 'SIGKILL');
  }
});
