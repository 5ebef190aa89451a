// Issue 9, case 4: a server that drips one byte every 2 s, under the per-read timeout.
// `update` and package downloads end with TIMEOUT naming the limit that fired (the
// overall transfer_timeout or the low_speed_limit/low_speed_time minimum rate), and the
// run lock is free again right after.
import { cleanupPki } from '../helpers/pki.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { startFaultServer, type FaultServer } from './fault-server.js';

let w: AgentEnv;
let srv: FaultServer;
const DRIP = { kind: 'drip' as const, everyMs: 2000 };

beforeAll(async () => {
  w = await makeAgentEnv();
  await w.publish({ name: 'tis-slow' });
  srv = await startFaultServer({ root: w.repoDir, cert: w.tls.serverCert, key: w.tls.serverKey });
  // timeout (per read) 5 s: a byte every 2 s never trips it
  await w.configure({ repo_url: srv.url, timeout: 5 });
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

afterEach(() => {
  srv.faultFor = () => undefined;
});

/** The lock is free: a run that waits at most 1 s for it gets it. */
async function expectLockFree() {
  const r = await w.run(['update', '--lock-timeout', '1'], { json: true });
  expect(r.code).toBe(0);
}

test('case 4: update from a dripping server → TIMEOUT, limit transfer_timeout, no retry past the deadline', async () => {
  srv.faultFor = (p) => (p === '/Packages' ? DRIP : undefined);
  const t0 = Date.now();
  const r = await w.run(['update', '--transfer-timeout', '4', '--low-speed-limit', '0'], { json: true, timeoutMs: 60_000 });
  const took = Date.now() - t0;
  expect(r.code).toBe(4);
  const err = JSON.parse(r.stdout).error;
  expect(err.code).toBe('TIMEOUT');
  expect(err.detail).toMatchObject({ limit: 'transfer_timeout', seconds: 4 });
  expect(err.message).toContain('transfer_timeout');
  expect(took).toBeLessThan(15_000);
  srv.faultFor = () => undefined;
  await expectLockFree();
}, 60_000);

test('case 4: update from a dripping server → TIMEOUT, limit low_speed (ini keys low_speed_limit / low_speed_time)', async () => {
  await w.configure({ repo_url: srv.url, timeout: 5, low_speed_limit: 100, low_speed_time: 2, transfer_timeout: 0 });
  await w.publish({ name: 'tis-new' }); // a changed index: no 304 answers for us
  try {
    srv.faultFor = (p) => (p === '/Packages' ? DRIP : undefined);
    const t0 = Date.now();
    const r = await w.run(['update'], { json: true, timeoutMs: 60_000 });
    const took = Date.now() - t0;
    expect(r.code).toBe(4);
    const err = JSON.parse(r.stdout).error;
    expect(err.code).toBe('TIMEOUT');
    expect(err.detail).toMatchObject({ limit: 'low_speed', low_speed_limit: 100, low_speed_time: 2 });
    expect(err.message).toContain('low_speed_limit');
    // a few attempts of ~2 s each, never the hours the drip would take
    expect(took).toBeLessThan(30_000);
  } finally {
    await w.configure({ repo_url: srv.url, timeout: 5 });
  }
  srv.faultFor = () => undefined;
  await expectLockFree();
}, 60_000);

test('case 4: a package download from a dripping server → ERR_DOWNLOAD_PACK naming the limit that fired', async () => {
  expect((await w.run(['update'])).code).toBe(0);
  srv.faultFor = (p) => (p.endsWith('.wapt') ? DRIP : undefined);

  const deadline = await w.run(['install', 'tis-slow', '--transfer-timeout', '4', '--low-speed-limit', '0'], { json: true, timeoutMs: 60_000 });
  expect(deadline.code).toBe(4);
  const r1 = JSON.parse(deadline.stdout).results[0];
  expect(r1).toMatchObject({ package: 'tis-slow', status: 'ERROR', error_code: 'ERR_DOWNLOAD_PACK' });
  expect(r1.message).toMatch(/\[TIMEOUT\].*transfer_timeout \(4 s\)/);

  const t0 = Date.now();
  const slow = await w.run(['install', 'tis-slow', '--transfer-timeout', '0', '--low-speed-limit', '100', '--low-speed-time', '2'], {
    json: true,
    timeoutMs: 60_000,
  });
  expect(Date.now() - t0).toBeLessThan(30_000);
  const r2 = JSON.parse(slow.stdout).results[0];
  expect(r2).toMatchObject({ package: 'tis-slow', status: 'ERROR', error_code: 'ERR_DOWNLOAD_PACK' });
  expect(r2.message).toMatch(/\[TIMEOUT\].*low_speed_limit \(100 bytes\/s\) for low_speed_time \(2 s\)/);

  srv.faultFor = () => undefined;
  await expectLockFree();
  const ok = await w.run(['install', 'tis-slow'], { json: true });
  expect(ok.code).toBe(0);
}, 90_000);
