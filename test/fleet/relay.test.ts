// `serve --upstream`: a branch serve forwards every accepted report unchanged to head
// office from an on-disk queue; head office re-verifies the host's own signature and its
// replay check still holds. Upstream down, then the relay restarted with a full queue:
// nothing is lost, order is kept.
import { createServer } from 'node:net';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseVerifyCert } from '../../src/repo/index.js';
import { startFleetServices, RELAY_DIR } from '../../src/server/index.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { ensureSelfSignedTls } from '../../src/server/tls-selfsigned.js';
import { call, inventoryClaim, makeHost, sha256, statusClaim, type Host } from '../server/fleet-helpers.js';

const RELAY_TOKEN = 'relay-branch-token-01';
const VIEW = 'head-view-token-02';
let tmp: string;
let ca: Buffer;
let tls: { certPath: string; keyPath: string };
let headPort: number;
let head: RunningServer | null = null;
let branch: RunningServer | null = null;
let services: Awaited<ReturnType<typeof startFleetServices>> | null = null;
let h: Host;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function startHead() {
  head = await startServer({ repoDir: tmp, port: headPort, ...tls, management: { dataDir: join(tmp, 'head'), adminTokensFile: join(tmp, 'head-admins') } });
}

async function startBranch() {
  branch = await startServer({ repoDir: tmp, port: 0, ...tls, management: { dataDir: join(tmp, 'branch'), openRegistration: true } });
  services = await startFleetServices(branch.management!, {
    dataDir: join(tmp, 'branch'),
    upstream: {
      upstream: `https://relay:${RELAY_TOKEN}@127.0.0.1:${headPort}`,
      http: {
        verifyCert: parseVerifyCert(tls.certPath, tmp),
        connectTimeoutMs: 2000,
        readTimeoutMs: 5000,
        retries: 0,
        retryBaseMs: 100,
        maxRedirects: 0,
        allowInsecureHttp: false,
        userAgent: 'test-relay',
      },
    },
    keepReportsMs: null,
    expireHostsMs: null,
    log: () => undefined,
    retryMs: 200,
  });
}

async function stopBranch() {
  await services?.stop();
  await branch?.close();
  branch = null;
}

async function until(fn: () => Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const headHost = async () => (await call(head!, ca, 'GET', `/api/v1/hosts/${h.uuid}`, { token: VIEW })).json;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-relay-'));
  const t = await ensureSelfSignedTls(join(tmp, 'tls'));
  tls = { certPath: t.certPath, keyPath: t.keyPath };
  ca = await readFile(t.certPath);
  await writeFile(join(tmp, 'head-admins'), `branch-a operate ${sha256(RELAY_TOKEN)}\nviewer view ${sha256(VIEW)}\n`);
  headPort = await freePort();
  await startHead();
  await startBranch();
  h = await makeHost('BA000000-0000-4000-8000-0000000000ba');
}, 60_000);

afterAll(async () => {
  await stopBranch();
  await head?.close();
  await rm(tmp, { recursive: true, force: true });
});

test('a registration and a report accepted by the branch reach head office unchanged (same signature and sequence)', async () => {
  expect((await call(branch!, ca, 'POST', '/api/v1/register', { body: { host_uuid: h.uuid, certificate: h.pem, claim: inventoryClaim(h, 1) } })).status).toBe(
    201,
  );
  const claim = statusClaim(h, 2);
  expect((await call(branch!, ca, 'POST', '/api/v1/status', { body: { claim } })).status).toBe(200);
  await until(async () => (await headHost())?.last_sequence === 2);
  const rec = await headHost();
  expect(rec.status.signature).toBe(claim.signature);
  // replay protection holds end to end: the same report sent to head directly is a replay
  const again = await call(head!, ca, 'POST', '/api/v1/status', { body: { claim } });
  expect([again.status, again.json.code]).toEqual([409, 'REPLAY']);
});

test('upstream down during relay, relay restarted with a full queue: every report arrives, in order', async () => {
  await head!.close();
  head = null;
  for (let seq = 10; seq < 15; seq++) expect((await call(branch!, ca, 'POST', '/api/v1/status', { body: { claim: statusClaim(h, seq) } })).status).toBe(200);
  await new Promise((r) => setTimeout(r, 500));
  expect(await readdir(join(tmp, 'branch', RELAY_DIR))).toHaveLength(5);
  await stopBranch();
  await startBranch(); // restarted with its queue on disk, upstream still down
  expect(await readdir(join(tmp, 'branch', RELAY_DIR))).toHaveLength(5);
  await startHead();
  await until(async () => (await readdir(join(tmp, 'branch', RELAY_DIR))).length === 0);
  const rec = await headHost();
  expect(rec.last_sequence).toBe(14);
  expect(rec.reports.map((r: any) => r.sequence).slice(0, 6)).toEqual([14, 13, 12, 11, 10, 2]);
}, 60_000);

test('without the relay credential head office refuses a forwarded registration (401)', async () => {
  const other = await makeHost('BB000000-0000-4000-8000-0000000000bb');
  const r = await call(head!, ca, 'POST', '/api/v1/register', { body: { host_uuid: other.uuid, certificate: other.pem, claim: inventoryClaim(other, 1) } });
  expect([r.status, r.json.code]).toEqual([401, 'BAD_TOKEN']);
});
