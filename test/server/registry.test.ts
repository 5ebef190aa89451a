// The management API of `serve --data-dir`, through the real HTTPS server (startServer)
// with real RSA keys: registration, signed status reports, replay / staleness / signer
// checks, size caps, and the dashboard's escaping.
import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signReport, signClaim, type SignedClaim } from '../../src/protocol/index.js';
import { certificateToPem, generateRsaKeyPair, issueCertificate } from '../../src/crypto/index.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { ensureSelfSignedTls } from '../../src/server/tls-selfsigned.js';

const TOKEN = 'reg-token-5f0c1d2e9a';
const HOUR = 3600_000;

interface Host {
  uuid: string;
  key: KeyObject;
  cert: X509Certificate;
  pem: string;
}

async function makeHost(uuid: string): Promise<Host> {
  const { privateKey, publicKey } = await generateRsaKeyPair(2048);
  const cert = await issueCertificate({ commonName: uuid, publicKey, privateKey, codeSigning: false, days: 30 });
  return { uuid, key: privateKey, cert, pem: certificateToPem(cert) };
}

const PKGS = [
  { package: 'tis-ok', version: '1-1', install_status: 'OK', error_code: null, last_audit_status: 'OK' },
  { package: 'tis-bad', version: '2-1', install_status: 'ERROR', error_code: 'ERR_EXIT_CODE', last_audit_status: null },
];

function inventoryClaim(h: Host, seq: number, o: { hostname?: string; now?: Date; signer?: Host } = {}): SignedClaim {
  const s = o.signer ?? h;
  return signReport('inventory', h.uuid, seq, { hostname: o.hostname ?? `pc-${h.uuid.slice(0, 4)}`, packages: PKGS }, { key: s.key, chain: [s.cert] }, o.now);
}

function statusClaim(h: Host, seq: number, o: { now?: Date; signer?: Host; packages?: unknown[] } = {}): SignedClaim {
  const s = o.signer ?? h;
  return signReport('status', h.uuid, seq, { hostname: `pc-${h.uuid.slice(0, 4)}`, packages: o.packages ?? PKGS }, { key: s.key, chain: [s.cert] }, o.now);
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

let ca: Buffer;

const ADMIN_TOKEN = 'admin-token-registry-7c1f';
/** Admin paths get the view+ credential unless the caller set Authorization itself. */
function call(srv: RunningServer, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Res> {
  if (!/^\/api\/v1\/(register|status|poll)$/.test(path) && headers.authorization === undefined)
    headers = { ...headers, authorization: `Bearer ${ADMIN_TOKEN}` };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, path, method, ca, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const post = (srv: RunningServer, path: string, data: unknown) => call(srv, 'POST', path, JSON.stringify(data), { 'content-type': 'application/json' });
/** token null: none sent. */
const register = (srv: RunningServer, h: Host, claim: SignedClaim, token: string | null = TOKEN) =>
  post(srv, '/api/v1/register', { host_uuid: h.uuid, certificate: h.pem, ...(token === null ? {} : { token }), claim });

let tmp: string;
let dataDir: string;
let server: RunningServer;
const logs: string[] = [];
let alice: Host;
let mallory: Host;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-registry-'));
  await mkdir(join(tmp, 'repo'));
  const tls = await ensureSelfSignedTls(join(tmp, 'tls'));
  ca = await readFile(tls.certPath);
  dataDir = join(tmp, 'data');
  await writeFile(join(tmp, 'admins'), `root admin ${createHash('sha256').update(ADMIN_TOKEN).digest('hex')}\n`);
  server = await startServer({
    repoDir: join(tmp, 'repo'),
    port: 0,
    certPath: tls.certPath,
    keyPath: tls.keyPath,
    management: { dataDir, registrationToken: TOKEN, adminTokensFile: join(tmp, 'admins') },
    log: (l) => logs.push(l),
  });
  [alice, mallory] = await Promise.all([makeHost('A11CE000-0000-4000-8000-000000000001'), makeHost('3A770000-0000-4000-8000-000000000002')]);
});

afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('register', () => {
  test('a signed inventory registers the host (201); it appears in /api/v1/hosts, /api/v1/hosts/<uuid> and the dashboard', async () => {
    const r = await register(server, alice, inventoryClaim(alice, 10));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ host_uuid: alice.uuid, registered: true, sequence: 10 });
    expect(r.json.fingerprint).toBe(createHash('sha256').update(alice.cert.raw).digest('hex'));

    const hosts = await call(server, 'GET', '/api/v1/hosts');
    expect(hosts.status).toBe(200);
    const mine = hosts.json.hosts.find((h: any) => h.host_uuid === alice.uuid);
    expect(mine).toMatchObject({ hostname: 'pc-A11C', packages_from: 'inventory', state: 'ERROR', counts: { total: 2, ok: 1, error: 1, pending: 0 } });

    const one = await call(server, 'GET', `/api/v1/hosts/${alice.uuid}`);
    expect(one.json.inventory.signature).toEqual(expect.any(String));
    expect(one.json.certificate).toBe(alice.pem);

    const dash = await call(server, 'GET', '/dashboard');
    expect(dash.status).toBe(200);
    expect(dash.headers['content-type']).toMatch(/^text\/html/);
    expect(dash.text).toContain(alice.uuid);
    expect(dash.text).toContain('pc-A11C');
  });

  test('the host record is a 0600 JSON file named after the lowercase UUID', async () => {
    const st = await stat(join(dataDir, 'hosts', `${alice.uuid.toLowerCase()}.json`));
    expect(st.mode & 0o777).toBe(0o600);
  });

  test('re-registering with the same certificate and a higher sequence updates the inventory (200)', async () => {
    const r = await register(server, alice, inventoryClaim(alice, 11, { hostname: 'pc-alice-renamed' }));
    expect(r.status).toBe(200);
    expect(r.json.registered).toBe(false);
    const hosts = await call(server, 'GET', '/api/v1/hosts');
    expect(hosts.json.hosts.find((h: any) => h.host_uuid === alice.uuid).hostname).toBe('pc-alice-renamed');
  });

  test('wrong token → 401 BAD_TOKEN; missing token → 401; the token never reaches the log', async () => {
    const wrong = await register(server, mallory, inventoryClaim(mallory, 1), 'reg-token-guess');
    expect([wrong.status, wrong.json.code]).toEqual([401, 'BAD_TOKEN']);
    const none = await register(server, mallory, inventoryClaim(mallory, 1), null);
    expect([none.status, none.json.code]).toEqual([401, 'BAD_TOKEN']);
    expect(logs.join('\n')).not.toContain(TOKEN);
    expect(logs.join('\n')).not.toContain('reg-token-guess');
    expect(logs.some((l) => l.includes('401 BAD_TOKEN'))).toBe(true);
  });

  test('claim signed by another key than the presented certificate → 403 SIGNER_MISMATCH', async () => {
    const r = await register(server, mallory, inventoryClaim(mallory, 1, { signer: alice }));
    expect([r.status, r.json.code]).toEqual([403, 'SIGNER_MISMATCH']);
  });

  test('claim naming the presented certificate but signed by another key → 403 BAD_SIGNATURE', async () => {
    const forged = inventoryClaim(mallory, 1, { signer: alice });
    forged.signer = createHash('sha256').update(mallory.cert.raw).digest('hex');
    forged.signer_certificate = mallory.pem;
    const r = await register(server, mallory, forged);
    expect([r.status, r.json.code]).toEqual([403, 'BAD_SIGNATURE']);
  });

  test('certificate naming another UUID than the body → 403 CERT_UUID_MISMATCH (F1A)', async () => {
    const claim = inventoryClaim(mallory, 1);
    const r = await post(server, '/api/v1/register', { host_uuid: alice.uuid.replace('1', '9'), certificate: mallory.pem, token: TOKEN, claim });
    expect([r.status, r.json.code]).toEqual([403, 'CERT_UUID_MISMATCH']);
  });

  test('claim for another host_uuid than the body and certificate name → 403 HOST_MISMATCH', async () => {
    const other = { ...mallory, uuid: alice.uuid.replace('1', '9') };
    const claim = inventoryClaim(other, 1, { signer: mallory });
    const r = await post(server, '/api/v1/register', { host_uuid: mallory.uuid, certificate: mallory.pem, token: TOKEN, claim });
    expect([r.status, r.json.code]).toEqual([403, 'HOST_MISMATCH']);
  });

  test('re-registering a known UUID with a different certificate → 409 CERT_CONFLICT, record unchanged', async () => {
    const impostor = await makeHost(alice.uuid);
    const r = await register(server, impostor, inventoryClaim(impostor, 99));
    expect([r.status, r.json.code]).toEqual([409, 'CERT_CONFLICT']);
    const one = await call(server, 'GET', `/api/v1/hosts/${alice.uuid}`);
    expect(one.json.certificate).toBe(alice.pem);
  });

  test('DELETE /api/v1/hosts/<uuid> (the documented "forget") lets a new certificate register', async () => {
    const carol = await makeHost('CA201000-0000-4000-8000-000000000003');
    expect((await register(server, carol, inventoryClaim(carol, 1))).status).toBe(201);
    const rekeyed = await makeHost(carol.uuid);
    expect((await register(server, rekeyed, inventoryClaim(rekeyed, 2))).status).toBe(409);
    expect((await call(server, 'DELETE', `/api/v1/hosts/${carol.uuid}`)).status).toBe(200);
    expect((await register(server, rekeyed, inventoryClaim(rekeyed, 2))).status).toBe(201);
  });

  test('malformed host_uuid (path characters) → 400', async () => {
    const bad = { ...mallory, uuid: '../../etc/passwd' };
    const r = await register(server, bad, inventoryClaim(bad, 1));
    expect([r.status, r.json.code]).toEqual([400, 'SCHEMA_INVALID']);
  });
});

describe('status', () => {
  test('a status claim signed by the registered certificate is stored (200) and shown', async () => {
    const pkgs = [...PKGS, { package: 'tis-new', version: '1-1', install_status: 'OK', error_code: null, last_audit_status: 'ERROR' }];
    const r = await post(server, '/api/v1/status', { claim: statusClaim(alice, 20, { packages: pkgs }) });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ accepted: true, sequence: 20 });
    const hosts = await call(server, 'GET', '/api/v1/hosts');
    const mine = hosts.json.hosts.find((h: any) => h.host_uuid === alice.uuid);
    expect(mine).toMatchObject({ packages_from: 'status', counts: { total: 3, ok: 2, error: 1, audit_error: 1 } });
  });

  test('replayed status (same claim again) → 409 REPLAY; a lower sequence too', async () => {
    const claim = statusClaim(alice, 21);
    expect((await post(server, '/api/v1/status', { claim })).status).toBe(200);
    const again = await post(server, '/api/v1/status', { claim });
    expect([again.status, again.json.code]).toEqual([409, 'REPLAY']);
    const older = await post(server, '/api/v1/status', { claim: statusClaim(alice, 15) });
    expect([older.status, older.json.code]).toEqual([409, 'REPLAY']);
  });

  test('two concurrent reports with the same sequence: exactly one is accepted', async () => {
    const a = statusClaim(alice, 30);
    const b = statusClaim(alice, 30);
    const rs = await Promise.all([post(server, '/api/v1/status', { claim: a }), post(server, '/api/v1/status', { claim: b })]);
    expect(rs.map((r) => r.status).sort()).toEqual([200, 409]);
  });

  test('stale signature_date (7 h old) → 403 STALE_SIGNATURE; 7 h in the future too', async () => {
    const old = await post(server, '/api/v1/status', { claim: statusClaim(alice, 40, { now: new Date(Date.now() - 7 * HOUR) }) });
    expect([old.status, old.json.code]).toEqual([403, 'STALE_SIGNATURE']);
    const future = await post(server, '/api/v1/status', { claim: statusClaim(alice, 41, { now: new Date(Date.now() + 7 * HOUR) }) });
    expect([future.status, future.json.code]).toEqual([403, 'STALE_SIGNATURE']);
    const fine = await post(server, '/api/v1/status', { claim: statusClaim(alice, 42, { now: new Date(Date.now() - 5 * HOUR) }) });
    expect(fine.status).toBe(200);
  });

  test('tampered claim field (a package status flipped after signing) → 403 BAD_SIGNATURE', async () => {
    const claim = statusClaim(alice, 50);
    (claim.packages as any[])[1].install_status = 'OK';
    const r = await post(server, '/api/v1/status', { claim });
    expect([r.status, r.json.code]).toEqual([403, 'BAD_SIGNATURE']);
  });

  test('tampered sequence (raised to get past the replay check) → 403 BAD_SIGNATURE', async () => {
    const claim = statusClaim(alice, 21);
    claim.sequence = 10_000;
    const r = await post(server, '/api/v1/status', { claim });
    expect([r.status, r.json.code]).toEqual([403, 'BAD_SIGNATURE']);
  });

  test('an unsigned extra attribute → 400 MALFORMED', async () => {
    const claim = { ...statusClaim(alice, 60), note: 'added later' };
    const r = await post(server, '/api/v1/status', { claim });
    expect([r.status, r.json.code]).toEqual([400, 'MALFORMED']);
  });

  test('status signed by another key for a registered host → 403 SIGNER_MISMATCH', async () => {
    const r = await post(server, '/api/v1/status', { claim: statusClaim(alice, 70, { signer: mallory }) });
    expect([r.status, r.json.code]).toEqual([403, 'SIGNER_MISMATCH']);
  });

  test('status from an unregistered host → 403 UNKNOWN_HOST', async () => {
    const r = await post(server, '/api/v1/status', { claim: statusClaim(mallory, 1) });
    expect([r.status, r.json.code]).toEqual([403, 'UNKNOWN_HOST']);
  });

  test('an inventory claim sent as status → 403 WRONG_REPORT_TYPE', async () => {
    const r = await post(server, '/api/v1/status', { claim: inventoryClaim(alice, 80) });
    expect([r.status, r.json.code]).toEqual([403, 'WRONG_REPORT_TYPE']);
  });

  test('a claim without sequence and report_type → 400 MALFORMED', async () => {
    const bare = signClaim({ host_uuid: alice.uuid, packages: [] }, { key: alice.key, chain: [alice.cert] });
    const r = await post(server, '/api/v1/status', { claim: bare });
    expect([r.status, r.json.code]).toEqual([400, 'MALFORMED']);
  });
});

describe('request hygiene', () => {
  test('oversized body with Content-Length → 413 TOO_LARGE', async () => {
    const big = JSON.stringify({ claim: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    const r = await call(server, 'POST', '/api/v1/status', big, { 'content-type': 'application/json' });
    expect([r.status, r.json.code]).toEqual([413, 'TOO_LARGE']);
  });

  test('oversized chunked body (no Content-Length) → 413 TOO_LARGE', async () => {
    const r = await new Promise<Res>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.port, path: '/api/v1/status', method: 'POST', ca, agent: false, headers: { 'content-type': 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: res.statusCode!, headers: res.headers, text, json: JSON.parse(text) });
          });
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 24; i++) req.write(Buffer.alloc(64 * 1024, 0x20));
      req.end();
    });
    expect([r.status, r.json.code]).toEqual([413, 'TOO_LARGE']);
  });

  test('not JSON content type → 415; invalid JSON → 400; JSON array → 400', async () => {
    const form = await call(server, 'POST', '/api/v1/status', 'claim=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect([form.status, form.json.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const broken = await call(server, 'POST', '/api/v1/status', '{"claim":', { 'content-type': 'application/json' });
    expect([broken.status, broken.json.code]).toEqual([400, 'MALFORMED']);
    const arr = await call(server, 'POST', '/api/v1/status', '[]', { 'content-type': 'application/json' });
    expect([arr.status, arr.json.code]).toEqual([400, 'MALFORMED']);
  });

  test('GET on register → 405 with Allow: POST; unknown endpoint → 404 JSON', async () => {
    const r = await call(server, 'GET', '/api/v1/register');
    expect([r.status, r.json.code, r.headers.allow]).toEqual([405, 'METHOD_NOT_ALLOWED', 'POST']);
    const nf = await call(server, 'GET', '/api/v1/nothing');
    expect([nf.status, nf.json.code]).toEqual([404, 'NOT_FOUND']);
  });

  test('dashboard escapes HTML in host names and forbids scripts by CSP', async () => {
    const evil = await makeHost('E0110000-0000-4000-8000-000000000004');
    const name = '<script>alert("x")</script><img src=x onerror=1>&';
    expect((await register(server, evil, inventoryClaim(evil, 1, { hostname: name }))).status).toBe(201);
    const dash = await call(server, 'GET', '/dashboard');
    expect(dash.text).not.toContain('<script');
    expect(dash.text).not.toContain('<img');
    expect(dash.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=1&gt;&amp;');
    expect(dash.headers['content-security-policy']).toContain("default-src 'none'");
  });
});

describe('modes', () => {
  test('without management options serve stays a plain file server: /api/v1/hosts is a static 404', async () => {
    const tls = { certPath: join(tmp, 'tls', 'server.crt'), keyPath: join(tmp, 'tls', 'server.key') };
    const plain = await startServer({ repoDir: join(tmp, 'repo'), port: 0, ...tls });
    try {
      const r = await call(plain, 'GET', '/api/v1/hosts');
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toMatch(/^text\/plain/);
      expect((await call(plain, 'GET', '/dashboard')).status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  test('open registration accepts a host without token; without a token and not open → 401 BAD_TOKEN (enrolment tokens may exist)', async () => {
    const tls = { certPath: join(tmp, 'tls', 'server.crt'), keyPath: join(tmp, 'tls', 'server.key') };
    const open = await startServer({ repoDir: join(tmp, 'repo'), port: 0, ...tls, management: { dataDir: join(tmp, 'open'), openRegistration: true } });
    const closed = await startServer({ repoDir: join(tmp, 'repo'), port: 0, ...tls, management: { dataDir: join(tmp, 'closed') } });
    try {
      expect((await register(open, mallory, inventoryClaim(mallory, 1), null)).status).toBe(201);
      const r = await register(closed, mallory, inventoryClaim(mallory, 1), null);
      expect([r.status, r.json.code]).toEqual([401, 'BAD_TOKEN']);
    } finally {
      await Promise.all([open.close(), closed.close()]);
    }
  });
});
