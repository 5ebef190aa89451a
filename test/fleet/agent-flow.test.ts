// End to end through the real binary: serve (files store, admin tokens) → serve-admin
// enroll-token → register → remove → automatic report → server down (outbox, delivered
// later, in order; bounded, newest kept) → action sign → POST /api/v1/actions → agent runs
// it → its outcome on the server.
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { readdir, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/agent/db/index.js';
import { makeActionSigner } from '../helpers/action-signer.js';
import { buildTestPackage, collect, spawnAgent } from '../helpers/agent-env.js';
import { cleanupPki, getTestPki, type TestPki } from '../helpers/pki.js';

const UUID = 'F1EE7000-0000-4000-8000-000000000001';
const VIEW = 'flow-view-token';
const OPERATE = 'flow-operate-token';
let tmp: string;
let port: number;
let serve: { child: ChildProcess; exit: Promise<number | null>; out: () => string } | null = null;
let pin: Buffer;
let ini: string;
let dbdir: string;
let pki: TestPki;
let pkgFile: string;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function startServe(): Promise<void> {
  const child = spawnAgent([
    '-c',
    join(tmp, 'absent.ini'),
    'serve',
    '--repo',
    join(tmp, 'repo'),
    '--port',
    String(port),
    '--tls-dir',
    join(tmp, 'tls'),
    '--data-dir',
    join(tmp, 'data'),
    '--admin-tokens-file',
    join(tmp, 'admins'),
  ]);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 60_000);
    child.stdout!.on('data', () => {
      if (/^dashboard /m.test(out)) {
        clearTimeout(t);
        resolve();
      }
    });
    void exit.then((c) => reject(new Error(`serve exited ${c}: ${out}`)));
  });
  serve = { child, exit, out: () => out };
}

async function stopServe(): Promise<void> {
  if (!serve) return;
  serve.child.kill('SIGTERM');
  await serve.exit;
  serve = null;
}

function api(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        ca: pin,
        agent: false,
        headers: { authorization: `Bearer ${token}`, ...(data ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Queued reports (the outbox also keeps .state-acked, the state hash the server confirmed). */
const queued = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => collect(spawnAgent(['-c', ini, ...args], env), 60_000);
const events = async () => {
  const host = (await api('GET', `/api/v1/hosts/${UUID}`, VIEW)).json;
  return (host.reports as any[])
    .slice()
    .reverse()
    .flatMap((r) => (r.claim.events ?? []) as any[]);
};

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-fleet-flow-'));
  await mkdir(join(tmp, 'repo'));
  await writeFile(join(tmp, 'admins'), `viewer view ${sha(VIEW)}\nops operate ${sha(OPERATE)}\n`);
  port = await freePort();
  await startServe();
  pin = await readFile(join(tmp, 'tls', 'server.crt'));
  dbdir = join(tmp, 'db');
  await makeActionSigner(tmp); // the admin's action-signing CA (action_signers_dir) and key
  pki = await getTestPki();
  pkgFile = await buildTestPackage(pki, tmp, join(tmp, 'pkgs'), { name: 'tis-inst', version: '3.1-1' });
  ini = join(tmp, 'wapt-get.ini');
  await writeFile(
    ini,
    `[global]\nwapt_server = https://127.0.0.1:${port}\nverify_cert = ${join(tmp, 'tls', 'server.crt')}\ndbdir = ${dbdir}\nhost_uuid = ${UUID}\ntimeout = 5\nreport_timeout = 3\nreport_jitter = 0\noutbox_max = 3\naction_signers_dir = ${join(tmp, 'signers')}\ntrusted_certs_dir = ${pki.trustedDir}\n`,
  );
  const db = await openDb(join(dbdir, 'waptdb.sqlite'));
  for (const p of ['tis-a', 'tis-b', 'tis-c', 'tis-d', 'tis-e', 'tis-f'])
    db.installed.upsert({ package: p, version: '1.0-1', install_status: 'OK', explicit_by: 'admin' });
  await db.persist();
  db.close();
}, 90_000);

afterAll(async () => {
  await stopServe();
  if (pki) cleanupPki(pki);
  await rm(tmp, { recursive: true, force: true });
});

test('serve-admin enroll-token --uses 2 --expires 7d --label site-a, list shows it; register with it', async () => {
  const made = await cli(['--json', 'serve-admin', 'enroll-token', '--data-dir', join(tmp, 'data'), '--uses', '2', '--expires', '7d', '--label', 'site-a']);
  expect(made.code).toBe(0);
  const { token, id } = JSON.parse(made.stdout);
  expect(token).toMatch(/^wgr-/);
  const list = await cli(['--json', 'serve-admin', 'enroll-token', 'list', '--data-dir', join(tmp, 'data')]);
  expect(JSON.parse(list.stdout).tokens).toContainEqual(expect.objectContaining({ id, label: 'site-a', uses_left: 2 }));
  expect(list.stdout).not.toContain(token);
  const reg = await cli(['register'], { WAPT_GET_REGISTRATION_TOKEN: token });
  expect([reg.code, reg.stderr]).toEqual([0, expect.any(String)]);
  expect((await api('GET', `/api/v1/hosts/${UUID}`, VIEW)).status).toBe(200);
});

test('remove ends with an automatic signed report carrying its events', async () => {
  const r = await cli(['remove', 'tis-a']);
  expect(r.code).toBe(0);
  expect(await events()).toContainEqual(expect.objectContaining({ op: 'remove', package: 'tis-a', version: '1.0-1', result: 'REMOVED', error_code: null }));
  expect(await queued(join(dbdir, 'outbox'))).toEqual([]);
});

test('an unchanged state goes as its hash only (delta report); the server keeps the packages', async () => {
  expect((await cli(['remove', '--force', 'tis-not-installed'])).code).toBe(0);
  const host = (await api('GET', `/api/v1/hosts/${UUID}`, VIEW)).json;
  expect(host.reports[0].claim.packages).toBeUndefined();
  expect(host.reports[0].claim.state_sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(host.summary.packages.map((p: any) => p.package)).toContain('tis-b');
}, 60_000);

test('server down during remove: same exit code, report queued (0700/0600), delivered later in order, nothing lost', async () => {
  await stopServe();
  const r1 = await cli(['remove', 'tis-b']);
  const r2 = await cli(['remove', 'tis-c']);
  expect([r1.code, r2.code]).toEqual([0, 0]);
  expect(r1.stderr).toMatch(/queued in the outbox/);
  const box = join(dbdir, 'outbox');
  expect((await stat(box)).mode & 0o777).toBe(0o700);
  const files = await queued(box);
  expect(files).toHaveLength(2);
  expect((await stat(join(box, files[0]!))).mode & 0o777).toBe(0o600);
  await startServe();
  const up = await cli(['update-status']);
  expect(up.code).toBe(0);
  expect(await queued(box)).toEqual([]);
  const removed = (await events()).filter((e) => e.op === 'remove').map((e) => e.package);
  expect(removed).toEqual(['tis-a', 'tis-b', 'tis-c']);
}, 120_000);

test('server down during install: exit code unchanged, report queued, delivered later with the install event', async () => {
  await stopServe();
  const r = await cli(['install', pkgFile]);
  expect([r.code, r.stderr]).toEqual([0, expect.stringMatching(/queued in the outbox/)]);
  const box = join(dbdir, 'outbox');
  const [file] = await queued(box);
  const entry = JSON.parse(await readFile(join(box, file!), 'utf8'));
  expect(entry.events).toEqual([expect.objectContaining({ op: 'install', package: 'tis-inst', version: '3.1-1', result: 'OK', error_code: null })]);
  await startServe();
  expect((await cli(['update-status'])).code).toBe(0);
  expect(await queued(box)).toEqual([]);
  expect(await events()).toContainEqual(expect.objectContaining({ op: 'install', package: 'tis-inst', result: 'OK' }));
  expect((await cli(['remove', 'tis-inst'])).code).toBe(0);
}, 120_000);

test('outbox over its bound (outbox_max=3): the oldest are dropped, the newest state kept and the drop counted', async () => {
  await stopServe();
  for (const p of ['tis-d', 'tis-e', 'tis-f']) expect((await cli(['remove', p])).code).toBe(0);
  expect((await cli(['audit'])).code).toBeLessThan(2);
  const box = join(dbdir, 'outbox');
  const files = await queued(box);
  expect(files).toHaveLength(3);
  const entries = await Promise.all(files.map(async (f) => JSON.parse(await readFile(join(box, f), 'utf8'))));
  expect(entries.map((e) => e.op)).toEqual(['remove', 'remove', 'audit']);
  expect(entries[0].events[0].package).toBe('tis-e');
  expect(entries[2].dropped_before).toBe(1); // the drop travels with the newest entry
  await startServe();
  expect((await cli(['update-status'])).code).toBe(0);
  const host = (await api('GET', `/api/v1/hosts/${UUID}`, VIEW)).json;
  expect(host.summary.packages.map((p: any) => p.package)).toEqual([]); // the newest state: all removed
}, 120_000);

test('signed action: action sign → POST /api/v1/actions (operate) → agent long-poll runs it → outcome on the server', async () => {
  const db = await openDb(join(dbdir, 'waptdb.sqlite'));
  db.installed.upsert({ package: 'tis-old', version: '1.0-1', install_status: 'OK', explicit_by: 'admin' });
  await db.persist();
  db.close();
  const signed = await cli([
    'action',
    'sign',
    '--host',
    UUID,
    '--key',
    join(tmp, 'admin.key'),
    '--cert',
    join(tmp, 'admin.crt'),
    '--window',
    '300',
    'forget',
    'tis-old',
  ]);
  expect(signed.code).toBe(0);
  const action = JSON.parse(signed.stdout);
  expect(Object.keys(action)).toEqual(expect.arrayContaining(['id', 'host_uuid', 'action', 'args', 'signed_at', 'not_after', 'signature']));
  expect((await api('POST', '/api/v1/actions', VIEW, action)).status).toBe(403);
  expect((await api('POST', '/api/v1/actions', OPERATE, action)).status).toBe(201);
  const run = await cli(['agent', '--polls', '1', '--wait', '2']);
  expect(run.code).toBe(0);
  expect(run.stderr).toContain(`running signed action ${action.id}: forget tis-old`);
  const list = (await api('GET', '/api/v1/actions', VIEW)).json.actions;
  expect(list.find((a: any) => a.id === action.id).outcome).toMatchObject({ result: 'OK' });
  // the same action handed over again is refused as a replay
  const again = await cli(['agent', '--polls', '1', '--wait', '0']);
  expect(again.stderr).not.toContain(`running signed action ${action.id}`);
}, 120_000);

test('long-poll: an action queued while the agent’s one poll is already waiting is run in that poll', async () => {
  const db = await openDb(join(dbdir, 'waptdb.sqlite'));
  db.installed.upsert({ package: 'tis-later', version: '1.0-1', install_status: 'OK', explicit_by: 'admin' });
  await db.persist();
  db.close();
  const signed = await cli([
    'action',
    'sign',
    '--host',
    UUID,
    '--key',
    join(tmp, 'admin.key'),
    '--cert',
    join(tmp, 'admin.crt'),
    '--window',
    '300',
    'forget',
    'tis-later',
  ]);
  const action = JSON.parse(signed.stdout);
  const host = async () => (await api('GET', `/api/v1/hosts/${UUID}`, VIEW)).json;
  const before = (await host()).last_sequence as number;
  const running = collect(spawnAgent(['-c', ini, 'agent', '--polls', '1', '--wait', '30']), 90_000);
  // the poll is open once the server took a sequence that no stored report carries (a poll stores none)
  const end = Date.now() + 30_000;
  for (;;) {
    const h = await host();
    if (h.last_sequence > before && h.last_sequence > (h.reports[0]?.sequence ?? 0)) break;
    if (Date.now() > end) throw new Error('the agent never polled');
    await new Promise((r) => setTimeout(r, 100));
  }
  expect((await api('POST', '/api/v1/actions', OPERATE, action)).status).toBe(201);
  const run = await running;
  expect(run.code).toBe(0);
  expect(run.stderr).toContain(`running signed action ${action.id}: forget tis-later`);
}, 120_000);
