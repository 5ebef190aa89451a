// The fleet API of `serve --data-dir` through the real HTTPS server with real keys:
// B2 admin authentication (tokens file, Basic, mTLS), the audit and access logs, F1A
// enrolment (tokens, certificate naming the UUID, tombstones, host packages only to
// their host), paginated reads, and input discipline (schema errors, a fuzz run).
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateToPem, createCaCertificate, generateRsaKeyPair, issueCertificate, privateKeyToEncryptedPem } from '../../src/crypto/index.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { ensureSelfSignedTls } from '../../src/server/tls-selfsigned.js';
import { call as rawCall, inventoryClaim, makeHost, PKGS, sha256, statusClaim, type CallOptions, type Host } from './fleet-helpers.js';

const VIEW = 'view-token-1f2e3d';
const OPERATE = 'operate-token-4c5b6a';
const ADMIN = 'admin-token-7a8b9c';
let tmp: string;
let ca: Buffer;
let server: RunningServer;
let adminCa: { certPem: string; keyPem: string; cert: any; key: any };
const logs: string[] = [];
let enrollToken = '';
const call = (method: string, path: string, o: CallOptions = {}) => rawCall(server, ca, method, path, o);
const register = (h: Host, seq: number, token: string | undefined = enrollToken) =>
  call('POST', '/api/v1/register', { body: { host_uuid: h.uuid, certificate: h.pem, ...(token ? { token } : {}), claim: inventoryClaim(h, seq) } });

async function addEnrollToken(id: string, token: string, uses: number, expiresInMs: number, revoked = false) {
  await server.management!.store.addEnrollToken({
    id,
    hash: sha256(token),
    label: 'site-a',
    uses_left: uses,
    uses_total: uses,
    expires_at: new Date(Date.now() + expiresInMs).toISOString(),
    created_at: new Date().toISOString(),
    revoked_at: revoked ? new Date().toISOString() : null,
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-fleet-api-'));
  await mkdir(join(tmp, 'repo'));
  await mkdir(join(tmp, 'host-repo'));
  await writeFile(join(tmp, 'repo', 'Packages'), 'x'.repeat(5000));
  const tls = await ensureSelfSignedTls(join(tmp, 'tls'));
  ca = await readFile(tls.certPath);
  const caKeys = await generateRsaKeyPair(2048);
  const caCert = await createCaCertificate({ commonName: 'Fleet admin CA', key: caKeys, days: 30 });
  adminCa = { certPem: certificateToPem(caCert), keyPem: privateKeyToEncryptedPem(caKeys.privateKey, ''), cert: caCert, key: caKeys.privateKey };
  await writeFile(join(tmp, 'admin-ca.pem'), adminCa.certPem);
  await writeFile(
    join(tmp, 'admins'),
    [`# name role sha256`, `viewer view ${sha256(VIEW)}`, `ops operate ${sha256(OPERATE)}`, `root admin ${sha256(ADMIN)}`, ''].join('\n'),
  );
  server = await startServer({
    repoDir: join(tmp, 'repo'),
    hostRepoDir: join(tmp, 'host-repo'),
    port: 0,
    certPath: tls.certPath,
    keyPath: tls.keyPath,
    adminCaPath: join(tmp, 'admin-ca.pem'),
    management: { dataDir: join(tmp, 'data'), adminTokensFile: join(tmp, 'admins') },
    log: (l) => logs.push(l),
  });
  enrollToken = 'wgr-site-a-token';
  await addEnrollToken('good', enrollToken, 100, 3600_000);
});

afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('B2 admin authentication', () => {
  test('admin path without credential → 401 AUTH_REQUIRED (JSON, WWW-Authenticate)', async () => {
    for (const p of ['/api/v1/hosts', '/api/v1/packages', '/api/v1/export.ndjson', '/dashboard', '/api/v1/actions']) {
      const r = await call('GET', p);
      expect([p, r.status, r.json?.code]).toEqual([p, 401, 'AUTH_REQUIRED']);
      expect(r.headers['www-authenticate']).toMatch(/^Basic/);
    }
  });

  test('admin path with a wrong credential → 401 AUTH_INVALID; a malformed Authorization too', async () => {
    expect((await call('GET', '/api/v1/hosts', { token: 'guess' })).json.code).toBe('AUTH_INVALID');
    expect((await call('GET', '/api/v1/hosts', { headers: { authorization: 'Digest x' } })).json.code).toBe('AUTH_INVALID');
  });

  test('admin path with an insufficient role → 403 ROLE_REQUIRED (view cannot queue actions or forget)', async () => {
    const a = await call('POST', '/api/v1/actions', { token: VIEW, body: {} });
    expect([a.status, a.json.code]).toEqual([403, 'ROLE_REQUIRED']);
    const d = await call('DELETE', '/api/v1/hosts/nobody', { token: OPERATE });
    expect([d.status, d.json.code]).toEqual([403, 'ROLE_REQUIRED']);
  });

  test('Bearer and Basic (any user, token as password) both work', async () => {
    expect((await call('GET', '/api/v1/hosts', { token: VIEW })).status).toBe(200);
    expect((await call('GET', '/dashboard', { basic: VIEW })).status).toBe(200);
  });

  test('the tokens file is re-read on change: a new token works, a removed one stops, no restart', async () => {
    const file = join(tmp, 'admins');
    const before = await readFile(file, 'utf8');
    expect((await call('GET', '/api/v1/hosts', { token: 'late-token-000' })).status).toBe(401);
    await writeFile(file, `${before}late view ${sha256('late-token-000')}\n`);
    expect((await call('GET', '/api/v1/hosts', { token: 'late-token-000' })).status).toBe(200);
    await writeFile(file, before.replace(/^viewer .*$/m, ''));
    expect((await call('GET', '/api/v1/hosts', { token: VIEW })).status).toBe(401);
    await writeFile(file, before);
    expect((await call('GET', '/api/v1/hosts', { token: VIEW })).status).toBe(200);
  });

  test('mTLS: a client certificate issued by --admin-ca is an admin; a self-signed one is not', async () => {
    const k = await generateRsaKeyPair(2048);
    const cert = await issueCertificate({
      commonName: 'alice-admin',
      publicKey: k.publicKey,
      issuer: { cert: adminCa.cert, privateKey: adminCa.key },
      codeSigning: false,
      days: 5,
    });
    const keyPem = privateKeyToEncryptedPem(k.privateKey, '');
    const ok = await call('GET', '/api/v1/hosts', { cert: certificateToPem(cert), key: keyPem });
    expect(ok.status).toBe(200);
    const stranger = await makeHost('stranger-admin');
    const no = await call('GET', '/api/v1/hosts', { cert: stranger.pem, key: stranger.keyPem });
    expect([no.status, no.json.code]).toEqual([401, 'AUTH_REQUIRED']);
  });

  test('admin paths are off (403 ADMIN_DISABLED) until admins are configured', async () => {
    const tls = { certPath: join(tmp, 'tls', 'server.crt'), keyPath: join(tmp, 'tls', 'server.key') };
    const bare = await startServer({ repoDir: join(tmp, 'repo'), port: 0, ...tls, management: { dataDir: join(tmp, 'bare'), openRegistration: true } });
    try {
      const r = await rawCall(bare, ca, 'GET', '/api/v1/hosts', { token: ADMIN });
      expect([r.status, r.json.code]).toEqual([403, 'ADMIN_DISABLED']);
    } finally {
      await bare.close();
    }
  });

  test('audit log <data>/audit.ndjson is 0600 and names admin requests (allowed and refused)', async () => {
    await call('GET', '/api/v1/hosts?limit=5', { token: VIEW });
    await new Promise((r) => setTimeout(r, 50));
    const path = join(tmp, 'data', 'audit.ndjson');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const lines = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toContainEqual(expect.objectContaining({ event: 'admin', who: 'viewer', role: 'view', path: '/api/v1/hosts?limit=5', status: 200 }));
    expect(lines).toContainEqual(expect.objectContaining({ event: 'admin', path: '/api/v1/hosts', status: 401 }));
    expect(JSON.stringify(lines)).not.toContain(VIEW);
  });

  test('access log records the real byte count (a Range answer logs its part, not the file size)', async () => {
    logs.length = 0;
    await call('GET', '/Packages', { headers: { range: 'bytes=0-99' } });
    await call('GET', '/Packages');
    await new Promise((r) => setTimeout(r, 50));
    expect(logs.some((l) => /"GET \/Packages" 206 100 /.test(l))).toBe(true);
    expect(logs.some((l) => /"GET \/Packages" 200 5000 /.test(l))).toBe(true);
  });
});

describe('F1A enrolment', () => {
  let h1: Host;
  let h2: Host;
  beforeAll(async () => {
    [h1, h2] = await Promise.all([makeHost('E1000000-0000-4000-8000-000000000001'), makeHost('E2000000-0000-4000-8000-000000000002')]);
  });

  test('a host registers with an enrolment token; its use is counted', async () => {
    const r = await register(h1, 10);
    expect(r.status).toBe(201);
    const t = (await server.management!.store.listEnrollTokens()).find((x) => x.id === 'good')!;
    expect(t.uses_left).toBe(99);
  });

  test('enrolment token expired → 401 ENROLL_TOKEN_EXPIRED', async () => {
    await addEnrollToken('old', 'wgr-expired', 10, -1000);
    const r = await register(h2, 1, 'wgr-expired');
    expect([r.status, r.json.code]).toEqual([401, 'ENROLL_TOKEN_EXPIRED']);
  });

  test('enrolment token used up → 401 ENROLL_TOKEN_USED_UP', async () => {
    await addEnrollToken('once', 'wgr-once', 1, 3600_000);
    const h = await makeHost('E3000000-0000-4000-8000-000000000003');
    expect((await register(h, 1, 'wgr-once')).status).toBe(201);
    const r = await register(h2, 1, 'wgr-once');
    expect([r.status, r.json.code]).toEqual([401, 'ENROLL_TOKEN_USED_UP']);
  });

  test('enrolment token revoked → 401 ENROLL_TOKEN_REVOKED; unknown → 401 BAD_TOKEN', async () => {
    await addEnrollToken('rev', 'wgr-revoked', 10, 3600_000, true);
    expect((await register(h2, 1, 'wgr-revoked')).json.code).toBe('ENROLL_TOKEN_REVOKED');
    expect((await register(h2, 1, 'wgr-nope')).json.code).toBe('BAD_TOKEN');
  });

  test('certificate naming another UUID → 403 CERT_UUID_MISMATCH', async () => {
    const liar = await makeHost('E4000000-0000-4000-8000-000000000004', 'E1000000-0000-4000-8000-000000000001');
    const r = await register(liar, 1);
    expect([r.status, r.json.code]).toEqual([403, 'CERT_UUID_MISMATCH']);
  });

  test('one certificate for two UUIDs → refused (the CN names one UUID; the store refuses CERT_IN_USE)', async () => {
    const twin = { ...h1, uuid: 'E5000000-0000-4000-8000-000000000005' };
    const r = await call('POST', '/api/v1/register', {
      body: { host_uuid: twin.uuid, certificate: h1.pem, token: enrollToken, claim: inventoryClaim(twin, 20) },
    });
    expect([r.status, r.json.code]).toEqual([403, 'CERT_UUID_MISMATCH']);
  });

  test('report after forget (tombstone): the old report and the old registration cannot come back', async () => {
    const h = await makeHost('E6000000-0000-4000-8000-000000000006');
    const regBody = { host_uuid: h.uuid, certificate: h.pem, token: enrollToken, claim: inventoryClaim(h, 100) };
    expect((await call('POST', '/api/v1/register', { body: regBody })).status).toBe(201);
    const old = statusClaim(h, 101);
    expect((await call('DELETE', `/api/v1/hosts/${h.uuid}`, { token: ADMIN })).status).toBe(200);
    const s = await call('POST', '/api/v1/status', { body: { claim: old } });
    expect([s.status, s.json.code]).toEqual([403, 'HOST_FORGOTTEN']);
    const again = await call('POST', '/api/v1/register', { body: regBody });
    expect([again.status, again.json.code]).toEqual([409, 'REPLAY']);
    const audit = await readFile(join(tmp, 'data', 'audit.ndjson'), 'utf8');
    expect(audit).toMatch(/"event":"forget".*"who":"root"/);
    expect(audit).toMatch(/"event":"register"/);
  });

  test('anonymous host-package download → 403 HOST_PACKAGE_FORBIDDEN; its own certificate gets it; another host is refused', async () => {
    await writeFile(join(tmp, 'host-repo', `${h1.uuid}.wapt`), 'PK-host-package');
    const anon = await call('GET', `/wapt-host/${h1.uuid}.wapt`);
    expect([anon.status, anon.json.code]).toEqual([403, 'HOST_PACKAGE_FORBIDDEN']);
    const own = await call('GET', `/wapt-host/${h1.uuid}.wapt`, { cert: h1.pem, key: h1.keyPem });
    expect([own.status, own.text]).toEqual([200, 'PK-host-package']);
    const other = await makeHost('E3000000-0000-4000-8000-000000000003');
    expect((await call('GET', `/wapt-host/${h1.uuid}.wapt`, { cert: other.pem, key: other.keyPem })).status).toBe(403);
  });
});

describe('reads', () => {
  test('GET /api/v1/hosts paginates (limit, after) and filters (status, package, q); packages and export', async () => {
    const p1 = await call('GET', '/api/v1/hosts?limit=1', { token: VIEW });
    expect(p1.json.hosts).toHaveLength(1);
    const p2 = await call('GET', `/api/v1/hosts?limit=1&after=${p1.json.next}`, { token: VIEW });
    expect(p2.json.hosts[0].host_uuid).not.toBe(p1.json.hosts[0].host_uuid);
    expect((await call('GET', '/api/v1/hosts?status=ERROR&package=tis-bad&q=e1000', { token: VIEW })).json.hosts.map((h: any) => h.host_uuid)).toEqual([
      'E1000000-0000-4000-8000-000000000001',
    ]);
    const pk = await call('GET', '/api/v1/packages', { token: VIEW });
    expect(pk.json.packages).toContainEqual({ package: 'tis-bad', version: '2-1', OK: 0, ERROR: 2, 'NEED-UPGRADE': 0, pending: 0 });
    const ph = await call('GET', '/api/v1/packages/tis-bad/hosts?status=ERROR', { token: VIEW });
    expect(ph.json.hosts).toHaveLength(2);
    const ex = await call('GET', '/api/v1/export.ndjson', { token: VIEW });
    expect(ex.headers['content-type']).toMatch(/ndjson/);
    expect(
      ex.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).host_uuid),
    ).toHaveLength(2);
  });

  test('bad query parameters → 400 SCHEMA_INVALID (limit 0, unknown status, unknown parameter, repeated)', async () => {
    for (const q of ['limit=0', 'limit=abc', 'status=BROKEN', 'colour=red', 'q=a&q=b', 'after=../x']) {
      const r = await call('GET', `/api/v1/hosts?${q}`, { token: VIEW });
      expect([q, r.status, r.json.code]).toEqual([q, 400, 'SCHEMA_INVALID']);
    }
  });
});

describe('delta reports (section hashes)', () => {
  test('a report without its state section is accepted with the right hash (state kept), and asks for a full one with a wrong hash', async () => {
    const { stateSha256, signReport } = await import('../../src/protocol/index.js');
    const h = await makeHost('DE170000-0000-4000-8000-0000000000de');
    expect((await register(h, 1)).status).toBe(201);
    const full = await call('POST', '/api/v1/status', { body: { claim: statusClaim(h, 2) } });
    expect(full.json.state_sha256).toBe(stateSha256(PKGS, undefined));
    const delta = (seq: number, hash: string) =>
      call('POST', '/api/v1/status', {
        body: { claim: signReport('status', h.uuid, seq, { hostname: 'pc-delta', state_sha256: hash, events: [] }, { key: h.key, chain: [h.cert] }) },
      });
    const ok = await delta(3, full.json.state_sha256);
    expect([ok.status, ok.json.full_report_needed]).toEqual([200, false]);
    const rec = (await call('GET', `/api/v1/hosts/${h.uuid}`, { token: VIEW })).json;
    expect(rec.summary.counts.total).toBe(2); // the state is kept
    expect(rec.reports[0].claim.packages).toBeUndefined(); // the delta report is in the history as sent
    const stale = await delta(4, 'f'.repeat(64));
    expect([stale.status, stale.json.full_report_needed]).toEqual([200, true]);
  });
});

describe('input discipline', () => {
  test('fuzz: 3000 random mutations of valid register, status and action bodies — no 500, every answer JSON with a code', async () => {
    const h = await makeHost('F0000000-0000-4000-8000-00000000000f');
    const bases: [string, unknown][] = [
      ['/api/v1/register', { host_uuid: h.uuid, certificate: h.pem, token: 'x', claim: inventoryClaim(h, 5) }],
      ['/api/v1/status', { claim: statusClaim(h, 6) }],
      ['/api/v1/poll', { claim: statusClaim(h, 7), wait_secs: 0 }],
      [
        '/api/v1/actions',
        { id: 'abcdefgh-1', host_uuid: h.uuid, action: 'install', args: ['tis-a'], signed_at: '2026-01-01T00:00:00Z', not_after: '2099-01-01T00:00:00Z' },
      ],
    ];
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const weird = () =>
      [null, true, 0, -1, 1e308, 1.5, '', 'x'.repeat(rnd(3000)), [], {}, '__proto__', { __proto__: { a: 1 } }, [[[]]], '\u0000', 'é', 2 ** 53 + 1][rnd(16)];
    const mutate = (v: unknown, depth = 0): unknown => {
      if (depth > 4 || rnd(4) === 0) return weird();
      if (Array.isArray(v)) return rnd(3) === 0 ? [...v, weird()] : v.map((x) => (rnd(3) === 0 ? mutate(x, depth + 1) : x));
      if (v && typeof v === 'object') {
        const o: Record<string, unknown> = { ...(v as Record<string, unknown>) };
        const keys = Object.keys(o);
        const k = keys[rnd(keys.length)]!;
        const op = rnd(4);
        if (op === 0) delete o[k];
        else if (op === 1) o[`extra${rnd(5)}`] = weird();
        else o[k] = mutate(o[k], depth + 1);
        return o;
      }
      if (typeof v === 'string' && v.length && rnd(2) === 0) return v.slice(0, rnd(v.length)) + String.fromCharCode(rnd(0x250)) + v.slice(rnd(v.length));
      return weird();
    };
    const seen = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const [path, base] = bases[i % bases.length]!;
      const body = rnd(20) === 0 ? JSON.stringify(base).slice(0, rnd(200)) : JSON.stringify(mutate(base));
      const r = await call('POST', path, { body, token: path === '/api/v1/actions' ? OPERATE : undefined });
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
      if (r.status >= 500 || typeof r.json?.code !== 'string') throw new Error(`${path} ${r.status} ${r.text.slice(0, 200)} for ${body.slice(0, 300)}`);
    }
    console.log(`fuzz statuses: ${JSON.stringify(Object.fromEntries(seen))}`);
    expect(logs.some((l) => /management API error/.test(l))).toBe(false);
  }, 300_000);
});
