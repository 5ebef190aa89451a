// `wapt-get serve` static handler over real HTTPS with its self-signed cert,
// driven by raw requests (exact paths and headers) and by our HttpClient.
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { request, createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient, parseVerifyCert, type HttpOptions } from '../../src/repo/http/index.js';
import { contentType, createStaticHandler, parseRange } from '../../src/server/static-files.js';
import { ensureSelfSignedTls, type SelfSignedTls } from '../../src/server/tls-selfsigned.js';

let dir: string;
let root: string;
let tls: SelfSignedTls;
let server: Server;
let base: string;
let port: number;
let pkg: Buffer;
let certPem: Buffer;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const clients: HttpClient[] = [];

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
function raw(method: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, ca: certPem, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function client(o: Partial<HttpOptions> = {}): HttpClient {
  const c = new HttpClient({
    verifyCert: parseVerifyCert(tls.certPath, dir),
    connectTimeoutMs: 2000,
    readTimeoutMs: 2000,
    retries: 0,
    retryBaseMs: 5,
    maxRedirects: 3,
    allowInsecureHttp: false,
    userAgent: 'wapt-get-test',
    ...o,
  });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wapt-static-'));
  root = join(dir, 'repo');
  await mkdir(join(root, 'sub', 'dir'), { recursive: true });
  pkg = randomBytes(50_000);
  await writeFile(join(root, 'tis-7zip_1.0-1_all.wapt'), pkg);
  await writeFile(join(root, 'Packages'), 'PK fake index');
  await writeFile(join(root, 'sub', 'inner.json'), '{"a":1}');
  await writeFile(join(dir, 'secret.txt'), 'TOP SECRET');
  await symlink(join(dir, 'secret.txt'), join(root, 'escape.txt'));
  await symlink(join(root, 'sub', 'inner.json'), join(root, 'alias.json'));
  tls = await ensureSelfSignedTls(join(dir, 'tls'));
  certPem = await readFile(tls.certPath);
  server = createServer({ cert: certPem, key: await readFile(tls.keyPath) }, createStaticHandler(root));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
  base = `https://127.0.0.1:${port}`;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('static handler: GET/HEAD, validators, content types', () => {
  test('GET a .wapt: 200, application/zip, strong ETag, Last-Modified, Accept-Ranges', async () => {
    const r = await raw('GET', '/tis-7zip_1.0-1_all.wapt');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    expect(r.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
    expect(new Date(r.headers['last-modified']!).getTime()).toBe(Math.floor((await stat(join(root, 'tis-7zip_1.0-1_all.wapt'))).mtimeMs / 1000) * 1000);
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(sha(r.body)).toBe(sha(pkg));
  });

  test('content types: Packages, .crt, .json, .html, unknown', async () => {
    expect((await raw('GET', '/Packages')).headers['content-type']).toBe('application/zip');
    expect(contentType('/x/ca.crt')).toBe('application/x-x509-ca-cert');
    expect(contentType('a.JSON')).toBe('application/json');
    expect(contentType('index.html')).toMatch(/^text\/html/);
    expect(contentType('blob.bin')).toBe('application/octet-stream');
  });

  test('HEAD: same headers, no body', async () => {
    const r = await raw('HEAD', '/tis-7zip_1.0-1_all.wapt');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(pkg.length));
    expect(r.body.length).toBe(0);
  });

  test('If-None-Match / If-Modified-Since → 304; a different ETag → 200', async () => {
    const { headers } = await raw('HEAD', '/Packages');
    expect((await raw('GET', '/Packages', { 'if-none-match': headers.etag! })).status).toBe(304);
    expect((await raw('GET', '/Packages', { 'if-modified-since': headers['last-modified']! })).status).toBe(304);
    expect((await raw('GET', '/Packages', { 'if-none-match': '"nope"' })).status).toBe(200);
    expect((await raw('GET', '/Packages', { 'if-modified-since': 'Thu, 01 Jan 2015 00:00:00 GMT' })).status).toBe(200);
  });

  test('POST → 405 with Allow; missing file → 404', async () => {
    const r = await raw('POST', '/Packages');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
    expect((await raw('GET', '/missing.wapt')).status).toBe(404);
  });
});

describe('static handler: Range', () => {
  test('single range, open-ended and suffix ranges → 206 with Content-Range', async () => {
    const a = await raw('GET', '/tis-7zip_1.0-1_all.wapt', { range: 'bytes=10-19' });
    expect(a.status).toBe(206);
    expect(a.headers['content-range']).toBe(`bytes 10-19/${pkg.length}`);
    expect(a.body.equals(pkg.subarray(10, 20))).toBe(true);
    const b = await raw('GET', '/tis-7zip_1.0-1_all.wapt', { range: `bytes=${pkg.length - 7}-` });
    expect(b.body.equals(pkg.subarray(pkg.length - 7))).toBe(true);
    const c = await raw('GET', '/tis-7zip_1.0-1_all.wapt', { range: 'bytes=-5' });
    expect(c.body.equals(pkg.subarray(pkg.length - 5))).toBe(true);
  });

  test('unsatisfiable range → 416 with bytes */size', async () => {
    const r = await raw('GET', '/tis-7zip_1.0-1_all.wapt', { range: `bytes=${pkg.length}-` });
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe(`bytes */${pkg.length}`);
  });

  test('several ranges or another unit → whole file 200 (allowed by RFC 9110)', async () => {
    expect((await raw('GET', '/Packages', { range: 'bytes=0-1,3-4' })).status).toBe(200);
    expect(parseRange('items=0-1', 100)).toEqual({ kind: 'none' });
    expect(parseRange('bytes=5-2', 100)).toEqual({ kind: 'none' });
  });

  test('If-Range: matching ETag → 206, stale ETag or date → full 200', async () => {
    const { headers } = await raw('HEAD', '/tis-7zip_1.0-1_all.wapt');
    expect((await raw('GET', '/tis-7zip_1.0-1_all.wapt', { range: 'bytes=0-9', 'if-range': headers.etag! })).status).toBe(206);
    expect((await raw('GET', '/tis-7zip_1.0-1_all.wapt', { range: 'bytes=0-9', 'if-range': '"stale"' })).status).toBe(200);
    expect((await raw('GET', '/tis-7zip_1.0-1_all.wapt', { range: 'bytes=0-9', 'if-range': 'Thu, 01 Jan 2015 00:00:00 GMT' })).status).toBe(200);
  });
});

describe('static handler: no way out of the root, no listing', () => {
  test.each([
    ['dot-dot', '/../secret.txt'],
    ['encoded dot-dot', '/%2e%2e/secret.txt'],
    ['encoded slashes', '/sub/..%2f..%2fsecret.txt'],
    ['NUL byte', '/Packages%00.wapt'],
    ['backslash', '/sub\\..\\..\\secret.txt'],
    ['bad percent-encoding', '/%E0%A4%A'],
    ['symlink leading outside the root', '/escape.txt'],
  ])('%s → 404 and the secret never leaks', async (_name, path) => {
    const r = await raw('GET', path);
    expect(r.status).toBe(404);
    expect(r.body.toString()).not.toContain('TOP SECRET');
  });

  test('directories (and the root) are not listed → 404', async () => {
    expect((await raw('GET', '/sub/')).status).toBe(404);
    expect((await raw('GET', '/')).status).toBe(404);
  });

  test('a symlink that stays inside the root is served', async () => {
    const r = await raw('GET', '/alias.json');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
  });
});

describe('ensureSelfSignedTls', () => {
  test('the cert names hostname, 127.0.0.1 and localhost, is not a CA, and the key is private (0600)', async () => {
    const cert = new X509Certificate(certPem);
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.subject).toContain(`CN=${hostname()}`);
    expect(cert.ca).toBe(false);
    expect(cert.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(tls.fingerprintSha256);
    expect((await stat(tls.keyPath)).mode & 0o777).toBe(0o600);
    expect(parseVerifyCert(tls.certPath, dir).kind).toBe('pinned');
  });

  test('a second start reuses the pair; a missing key makes a new one', async () => {
    const again = await ensureSelfSignedTls(join(dir, 'tls'));
    expect(again.fingerprintSha256).toBe(tls.fingerprintSha256);
    const other = join(dir, 'tls2');
    const first = await ensureSelfSignedTls(other);
    await rm(first.keyPath);
    expect((await ensureSelfSignedTls(other)).fingerprintSha256).not.toBe(first.fingerprintSha256);
  });
});

describe('HttpClient against the static server (same cases as nginx)', () => {
  test('pinned to the self-signed cert: download OK with the right sha', async () => {
    const r = await client().fetchToFile(`${base}/tis-7zip_1.0-1_all.wapt`, join(dir, 'dl.wapt'), { expectedSha256: sha(pkg) });
    expect(r).toMatchObject({ status: 'downloaded', size: pkg.length });
  });

  test('pin of another self-signed cert → TLS_PIN_MISMATCH; system CA mode → TLS_ERROR', async () => {
    const other = await ensureSelfSignedTls(join(dir, 'tls-other'));
    await expect(client({ verifyCert: { kind: 'pinned', path: other.certPath } }).fetchToFile(`${base}/Packages`, join(dir, 'p1'))).rejects.toMatchObject({
      code: 'TLS_PIN_MISMATCH',
    });
    await expect(client({ verifyCert: { kind: 'system' } }).fetchToFile(`${base}/Packages`, join(dir, 'p2'))).rejects.toMatchObject({ code: 'TLS_ERROR' });
  });

  test('conditional GET → not-modified; 404 → HTTP_STATUS; HEAD via the client', async () => {
    const c = client({ retries: 2 });
    const first = await c.fetchToFile(`${base}/Packages`, join(dir, 'Packages.1'));
    const again = await c.fetchToFile(`${base}/Packages`, join(dir, 'Packages.2'), { conditional: { etag: first.etag, lastModified: first.lastModified } });
    expect(again.status).toBe('not-modified');
    await expect(c.fetchToFile(`${base}/nope`, join(dir, 'nope'))).rejects.toMatchObject({ code: 'HTTP_STATUS', detail: { status: 404 } });
    expect((await c.head(`${base}/Packages`)).headers.etag).toBe(first.etag);
  });
});
