// The SAME store suite as the files backend, against a real PostgreSQL (throw-away cluster),
// plus what only PostgreSQL has: two serve instances on two ports sharing one database
// (exactly one accepts a duplicate report), and a database restarted mid-run.
import { createServer } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../src/server/store/index.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { ensureSelfSignedTls } from '../../src/server/tls-selfsigned.js';
import { call, inventoryClaim, makeHost, statusClaim, type Host } from '../server/fleet-helpers.js';
import { storeSuite } from '../server/store-suite.js';
import { startCluster, type PgCluster } from './pg-cluster.js';

let cluster: PgCluster;
let a: Host;
let b: Host;
let suiteUrl = '';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  cluster = await startCluster(await freePort());
  suiteUrl = await cluster.createDb('suite');
  [a, b] = await Promise.all([makeHost('AAAA0000-0000-4000-8000-000000000001'), makeHost('BBBB0000-0000-4000-8000-000000000002')]);
}, 120_000);

afterAll(() => {
  cluster?.destroy();
});

storeSuite(
  'postgres',
  () => openStore({ dataDir: '', db: suiteUrl }),
  () => ({ a, b }),
);

describe('two serve instances on two ports share one PostgreSQL', () => {
  let tmp: string;
  let ca: Buffer;
  let s1: RunningServer;
  let s2: RunningServer;
  let h: Host;
  let url: string;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'wg-pg-serve-'));
    url = await cluster.createDb('shared');
    const tls = await ensureSelfSignedTls(join(tmp, 'tls'));
    ca = await readFile(tls.certPath);
    const opts = (n: string) => ({
      repoDir: tmp,
      port: 0,
      certPath: tls.certPath,
      keyPath: tls.keyPath,
      management: { dataDir: join(tmp, n), db: url, openRegistration: true },
    });
    [s1, s2] = await Promise.all([startServer(opts('d1')), startServer(opts('d2'))]);
    h = await makeHost('C0000000-0000-4000-8000-00000000000c');
  }, 60_000);

  afterAll(async () => {
    await Promise.all([s1?.close(), s2?.close()]);
    await rm(tmp, { recursive: true, force: true });
  });

  test('registered on one instance, known on the other; the same report to both: exactly one wins', async () => {
    expect((await call(s1, ca, 'POST', '/api/v1/register', { body: { host_uuid: h.uuid, certificate: h.pem, claim: inventoryClaim(h, 1) } })).status).toBe(201);
    for (let seq = 2; seq < 12; seq++) {
      const claim = statusClaim(h, seq);
      const [r1, r2] = await Promise.all([
        call(s1, ca, 'POST', '/api/v1/status', { body: { claim } }),
        call(s2, ca, 'POST', '/api/v1/status', { body: { claim } }),
      ]);
      expect([r1.status, r2.status].sort()).toEqual([200, 409]);
      expect([r1.json.code, r2.json.code]).toContain('REPLAY');
    }
  });

  test('both instances write one audit trail in the database (wg_audit), as well as their own audit file', async () => {
    const other = await makeHost('C0000000-0000-4000-8000-00000000000d');
    expect(
      (await call(s2, ca, 'POST', '/api/v1/register', { body: { host_uuid: other.uuid, certificate: other.pem, claim: inventoryClaim(other, 1) } })).status,
    ).toBe(201);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const rows = (await client.query("SELECT host_uuid, entry FROM wg_audit WHERE event = 'register' ORDER BY id")).rows;
      expect(rows.map((r) => r.host_uuid)).toEqual([h.uuid, other.uuid]);
      expect(rows[1].entry).toMatchObject({ event: 'register', host_uuid: other.uuid, detail: { created: true } });
    } finally {
      await client.end();
    }
    expect(await readFile(join(tmp, 'd2', 'audit.ndjson'), 'utf8')).toContain(other.uuid);
  });

  test('PostgreSQL restarted mid-run: 503 STORE_UNAVAILABLE while down (never a 500), accepted again once back', async () => {
    cluster.stop();
    try {
      const r = await call(s1, ca, 'POST', '/api/v1/status', { body: { claim: statusClaim(h, 100) } });
      expect([r.status, r.json.code]).toEqual([503, 'STORE_UNAVAILABLE']);
    } finally {
      cluster.start();
    }
    let ok = 0;
    for (let i = 0; i < 20 && !ok; i++) {
      const r = await call(s1, ca, 'POST', '/api/v1/status', { body: { claim: statusClaim(h, 101 + i) } });
      if (r.status === 200) ok = 1;
      else await new Promise((res) => setTimeout(res, 250));
    }
    expect(ok).toBe(1);
    const r2 = await call(s2, ca, 'POST', '/api/v1/status', { body: { claim: statusClaim(h, 200) } });
    expect(r2.status).toBe(200);
  }, 60_000);
});
