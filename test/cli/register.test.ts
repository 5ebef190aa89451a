// The agent side through the real CLI: `serve --data-dir` as a child, then `inventory`,
// `register` and `update-status` with a wapt-get.ini whose wapt_server points at it and
// whose verify_cert pins the certificate serve printed (W-G4).
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/agent/db/index.js';
import { ensureSelfSignedTls } from '../../src/server/tls-selfsigned.js';
import { collect, spawnAgent } from '../helpers/agent-env.js';

const TOKEN = 'cli-reg-token-8d1f77c2';
const ADMIN = 'cli-admin-token-51e0';
const UUID = '0C1A0000-0000-4000-8000-0000000000AA';

interface Serving {
  child: ChildProcess;
  url: string;
  pin: string;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

function startServe(args: string[]): Promise<Serving> {
  const child = spawnAgent(['-c', join(tmp, 'absent.ini'), 'serve', '--repo', join(tmp, 'repo'), '--port', '0', '--tls-dir', join(tmp, 'tls'), ...args]);
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start: ${err}`));
    }, 20_000);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}: ${err}`));
    });
    child.stdout!.on('data', () => {
      const url = /^listening on (https:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      const pin = /^pin it in wapt-get\.ini: verify_cert=(.+)$/m.exec(out);
      if (!url || !pin || !/^dashboard /m.test(out)) return;
      clearTimeout(timer);
      resolve({ child, url: url[1]!, pin: pin[1]!, out: () => out, err: () => err, exit });
    });
  });
}

function getJson(path: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, serving.url);
    request({ host: u.hostname, port: u.port, path: u.pathname, ca: pinPem, agent: false, headers: { authorization: `Bearer ${ADMIN}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
    })
      .on('error', reject)
      .end();
  });
}

let tmp: string;
let serving: Serving;
let pinPem: Buffer;
let dbdir: string;
let ini: string;

async function writeIni(path: string, g: Record<string, string>): Promise<void> {
  await writeFile(
    path,
    '[global]\n' +
      Object.entries(g)
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n') +
      '\n',
  );
}

const agent = (args: string[], o: { json?: boolean; config?: string; env?: NodeJS.ProcessEnv } = {}) =>
  collect(spawnAgent([...(o.json ? ['--json'] : []), '-c', o.config ?? ini, ...args], o.env ?? {}), 30_000);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-register-cli-'));
  await mkdir(join(tmp, 'repo'));
  await writeFile(join(tmp, 'token'), `${TOKEN}\n`);
  await writeFile(join(tmp, 'wrong-token'), 'cli-reg-token-wrong\n');
  await writeFile(join(tmp, 'admins'), `root view ${createHash('sha256').update(ADMIN).digest('hex')}\n`); // B2: admin paths need a credential
  serving = await startServe(['--data-dir', join(tmp, 'data'), '--registration-token-file', join(tmp, 'token'), '--admin-tokens-file', join(tmp, 'admins')]);
  pinPem = await readFile(serving.pin);
  dbdir = join(tmp, 'db');
  ini = join(tmp, 'wapt-get.ini');
  await writeIni(ini, { wapt_server: serving.url.replace(/\/$/, ''), verify_cert: serving.pin, dbdir, host_uuid: UUID, timeout: '5' });
  const db = await openDb(join(dbdir, 'waptdb.sqlite'));
  db.installed.upsert({ package: 'tis-firefox', version: '128.0-1', install_status: 'OK', explicit_by: 'admin', last_audit_status: 'OK' });
  db.installed.upsert({ package: 'tis-broken', version: '1.0-2', install_status: 'ERROR', error_code: 'ERR_EXIT_CODE', explicit_by: 'admin' });
  await db.persist();
  db.close();
}, 60_000);

afterAll(async () => {
  if (serving) {
    serving.child.kill('SIGTERM');
    await serving.exit;
  }
  await rm(tmp, { recursive: true, force: true });
});

test('serve --data-dir prints the management API and dashboard URLs', () => {
  expect(serving.out()).toMatch(/^management API https:\/\/127\.0\.0\.1:\d+\/api\/v1\/ .*registration by token/m);
});

test('inventory prints the host inventory JSON from the local DB (W-G1 statuses)', async () => {
  const r = await agent(['inventory']);
  expect(r.code).toBe(0);
  const inv = JSON.parse(r.stdout);
  expect(inv.host_uuid).toBe(UUID);
  expect(inv.os.platform).toBe(process.platform);
  expect(inv.node_version).toMatch(/^v\d+\./);
  expect(inv.wapt_get_version).toMatch(/^\d+\.\d+/);
  expect(inv.packages).toEqual([
    expect.objectContaining({ package: 'tis-broken', version: '1.0-2', install_status: 'ERROR', error_code: 'ERR_EXIT_CODE' }),
    expect.objectContaining({ package: 'tis-firefox', install_status: 'OK', last_audit_status: 'OK' }),
  ]);
});

test('register with a wrong token fails with HTTP 401 BAD_TOKEN (exit 4), prints no token, keeps the new 0600 host key', async () => {
  const r = await agent(['register', '--token-file', join(tmp, 'wrong-token')]);
  expect(r.code).toBe(4);
  expect(r.stderr).toContain('HTTP 401 BAD_TOKEN');
  expect(r.stderr).toContain('created the host key');
  expect(r.stderr + r.stdout).not.toContain('cli-reg-token-wrong');
  expect((await getJson('/api/v1/hosts')).hosts).toEqual([]);
  expect((await stat(join(dbdir, 'host-identity', 'host.key'))).mode & 0o777).toBe(0o600);
  expect((await stat(join(dbdir, 'host-identity'))).mode & 0o777).toBe(0o700);
});

test('register (token from the environment) reuses the host key and the host appears on the server', async () => {
  const r = await agent(['register', 'desk 12'], { json: true, env: { WAPT_GET_REGISTRATION_TOKEN: TOKEN } });
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out).toMatchObject({ registered: true, host_uuid: UUID, packages: 2, key_created: false });
  const { hosts } = await getJson('/api/v1/hosts');
  expect(hosts).toHaveLength(1);
  expect(hosts[0]).toMatchObject({ host_uuid: UUID, fingerprint: out.fingerprint, counts: { total: 2, ok: 1, error: 1 } });
  const rec = await getJson(`/api/v1/hosts/${UUID}`);
  expect(rec.inventory.description).toBe('desk 12');
});

test('register again with --token-file updates the registration with the same key', async () => {
  const r = await agent(['register', '--token-file', join(tmp, 'token')], { json: true });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ registered: false, key_created: false });
});

test('update-status sends signed reports with growing sequences; the server shows the latest', async () => {
  const first = await agent(['update-status'], { json: true });
  expect(first.code).toBe(0);
  const db = await openDb(join(dbdir, 'waptdb.sqlite'));
  db.installed.setStatus('tis-broken', 'OK', { error_code: null });
  await db.persist();
  db.close();
  const second = await agent(['update-status']);
  expect(second.code).toBe(0);
  expect(second.stdout).toMatch(/^status sent to https:\/\/127\.0\.0\.1:\d+: 2 packages \(OK 2, AUDIT-OK 1\), report \d+$/m);
  const rec = await getJson(`/api/v1/hosts/${UUID}`);
  expect(rec.last_sequence).toBeGreaterThan(JSON.parse(first.stdout).sequence);
  const { hosts } = await getJson('/api/v1/hosts');
  expect(hosts[0]).toMatchObject({ packages_from: 'status', counts: { total: 2, ok: 2, error: 0 } });
});

test('update-status refuses a server whose certificate differs from the pinned one (TLS_PIN_MISMATCH, exit 4)', async () => {
  const other = await ensureSelfSignedTls(join(tmp, 'other-tls'));
  const cfg = join(tmp, 'other-pin.ini');
  await writeIni(cfg, { wapt_server: serving.url, verify_cert: other.certPath, dbdir, host_uuid: UUID, timeout: '5' });
  const r = await agent(['update-status'], { config: cfg });
  expect(r.code).toBe(4);
  expect(r.stderr).toMatch(/pinned certificate/);
});

test('update-status from an unregistered host is refused (403 UNKNOWN_HOST)', async () => {
  const cfg = join(tmp, 'stranger.ini');
  await writeIni(cfg, { wapt_server: serving.url, verify_cert: serving.pin, dbdir: join(tmp, 'db2'), host_uuid: 'STRANGER-1', timeout: '5' });
  const r = await agent(['update-status'], { config: cfg });
  expect(r.code).toBe(4);
  expect(r.stderr).toContain('HTTP 403 UNKNOWN_HOST');
});

test('register without wapt_server in the ini → CONFIG_INVALID (exit 2)', async () => {
  const cfg = join(tmp, 'no-server.ini');
  await writeIni(cfg, { dbdir: join(tmp, 'db3'), host_uuid: 'X-1' });
  const r = await agent(['register'], { config: cfg });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('wapt_server');
});

test('the serve log names refusals but never the registration token', () => {
  expect(serving.err()).toContain('401 BAD_TOKEN');
  expect(serving.err()).not.toContain(TOKEN);
});

test('serve --open-registration with a registration token is a usage error (exit 2)', async () => {
  const r = await collect(
    spawnAgent([
      '-c',
      join(tmp, 'absent.ini'),
      'serve',
      '--repo',
      join(tmp, 'repo'),
      '--port',
      '0',
      '--tls-dir',
      join(tmp, 'tls'),
      '--data-dir',
      join(tmp, 'd2'),
      '--open-registration',
      '--registration-token-file',
      join(tmp, 'token'),
    ]),
    20_000,
  );
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--open-registration');
});

test('serve --open-registration warns loudly', async () => {
  const s = await startServe(['--data-dir', join(tmp, 'd3'), '--open-registration']);
  try {
    expect(s.err()).toContain('OPEN REGISTRATION');
    expect(s.out()).toMatch(/registration OPEN/);
  } finally {
    s.child.kill('SIGTERM');
    await s.exit;
  }
});
