// HttpClient against a node HTTPS server we control: dropped sockets, 5xx,
// silence, endless bodies, a CONNECT proxy. The honest paths are served by our
// own static handler (src/server/static-files.ts), so Range/If-Range is real.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient, loadPin, type HttpOptions } from '../../../src/repo/http/index.js';
import { createStaticHandler, etagOf } from '../../../src/server/static-files.js';
import { freePort } from '../../helpers/nginx.js';
import { makeTlsPki, type TlsPki } from '../../helpers/tls-pki.js';

let dir: string;
let root: string;
let pki: TlsPki;
let server: Server;
let base: string;
let proxy: HttpServer;
let proxyUrl: string;
const proxied: string[] = [];
const log: { url: string; range?: string; ifRange?: string; status?: number }[] = [];
const hits = new Map<string, number>();
let payload: Buffer;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const clients: HttpClient[] = [];

function client(o: Partial<HttpOptions> = {}): HttpClient {
  const c = new HttpClient({
    verifyCert: { kind: 'ca-bundle', path: pki.caCert },
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
  dir = await mkdtemp(join(tmpdir(), 'wapt-http-faults-'));
  root = join(dir, 'www');
  await mkdir(root);
  pki = await makeTlsPki(join(dir, 'pki'));
  payload = randomBytes(600_000);
  await writeFile(join(root, 'pkg.wapt'), payload);
  const statics = createStaticHandler(root);
  server = createServer({ cert: await readFile(pki.serverCert), key: await readFile(pki.serverKey) }, (req, res) => {
    const url = req.url ?? '/';
    const n = (hits.get(url) ?? 0) + 1;
    hits.set(url, n);
    const entry: (typeof log)[number] = { url, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined };
    log.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    if (url.startsWith('/cut/') && !req.headers.range) {
      // whole-body request: announce everything, send half, drop the socket
      const st = statSync(join(root, 'pkg.wapt'));
      entry.status = 200;
      res.writeHead(200, { 'content-length': st.size, etag: etagOf(st), 'last-modified': st.mtime.toUTCString() });
      res.write(payload.subarray(0, payload.length / 2), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    if (url.startsWith('/cut/')) {
      req.url = '/pkg.wapt';
      return statics(req, res);
    }
    if (url === '/500') {
      res.writeHead(500);
      return void res.end('boom');
    }
    if (url === '/flaky' && n === 1) {
      res.writeHead(503);
      return void res.end();
    }
    if (url === '/flaky') {
      req.url = '/pkg.wapt';
      return statics(req, res);
    }
    if (url === '/hang') return; // never answers
    if (url === '/stall') {
      res.writeHead(200, { 'content-length': 1000 });
      return void res.write('x'.repeat(10));
    }
    if (url === '/endless') {
      // chunked, no Content-Length
      res.writeHead(200);
      const pump = () => {
        if (!res.destroyed && res.write(Buffer.alloc(16_384))) setImmediate(pump);
        else if (!res.destroyed) res.once('drain', pump);
      };
      res.on('error', () => undefined);
      return pump();
    }
    statics(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy = createHttpServer();
  proxy.on('connect', (req, sock, head) => {
    proxied.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const up = netConnect(Number(port), host, () => {
      sock.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(sock);
      sock.pipe(up);
    });
    up.on('error', () => sock.destroy());
    sock.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  server?.closeAllConnections();
  proxy?.closeAllConnections();
  await Promise.all([server, proxy].map((s) => new Promise((r) => s?.close(r))));
  await rm(dir, { recursive: true, force: true });
});

const out = (name: string) => join(dir, name);
const seen = (url: string) => log.filter((e) => e.url === url);

describe('HttpClient faults: resume', () => {
  test('server cut at 50%: NETWORK_ERROR keeps only a .part; a later resume call sends Range + If-Range and gets 206', async () => {
    const dest = out('cut1.wapt');
    await expect(client().fetchToFile(`${base}/cut/1`, dest)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(existsSync(dest)).toBe(false);
    const partSize = statSync(`${dest}.part`).size;
    expect(partSize).toBeGreaterThan(0);
    const r = await client().fetchToFile(`${base}/cut/1`, dest, { resume: true, expectedSha256: sha(payload), expectedSize: payload.length });
    expect(r).toMatchObject({ status: 'downloaded', resumedFrom: partSize, sha256: sha(payload) });
    const second = seen('/cut/1')[1];
    expect(second).toMatchObject({ range: `bytes=${partSize}-`, status: 206 });
    expect(second.ifRange).toMatch(/^"/);
    expect(sha(await readFile(dest))).toBe(sha(payload));
  });

  test('server cut at 50% with retries: the retry inside the same call resumes with 206', async () => {
    const r = await client({ retries: 1 }).fetchToFile(`${base}/cut/2`, out('cut2.wapt'), { expectedSha256: sha(payload) });
    expect(r.resumedFrom).toBeGreaterThan(0);
    expect(seen('/cut/2').map((e) => e.status)).toEqual([200, 206]);
  });

  test('a .part without resume is discarded: the call starts from zero', async () => {
    const dest = out('cut3.wapt');
    await expect(client().fetchToFile(`${base}/cut/3`, dest)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    await expect(client().fetchToFile(`${base}/cut/3`, dest)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(seen('/cut/3').every((e) => e.range === undefined)).toBe(true);
  });

  test('If-Range with a stale validator: the server sends 200 and the client restarts cleanly', async () => {
    const dest = out('stale.wapt');
    await writeFile(`${dest}.part`, Buffer.from('old bytes of another version'));
    await writeFile(`${dest}.part.json`, JSON.stringify({ url: `${base}/pkg.wapt`, etag: '"stale"' }));
    const r = await client().fetchToFile(`${base}/pkg.wapt`, dest, { resume: true });
    expect(r).toMatchObject({ resumedFrom: 0, sha256: sha(payload) });
    expect(log.at(-1)).toMatchObject({ ifRange: '"stale"', status: 200 });
  });

  test('a complete .part answered with 416: the client fetches the whole file again', async () => {
    const dest = out('full.wapt');
    const st = statSync(join(root, 'pkg.wapt'));
    await writeFile(`${dest}.part`, payload);
    await writeFile(`${dest}.part.json`, JSON.stringify({ url: `${base}/pkg.wapt`, etag: etagOf(st) }));
    const r = await client().fetchToFile(`${base}/pkg.wapt`, dest, { resume: true, expectedSha256: sha(payload) });
    expect(r.sha256).toBe(sha(payload));
    expect(log.slice(-2).map((e) => e.status)).toEqual([416, 200]);
  });
});

describe('HttpClient faults: retries, timeouts, limits', () => {
  test('500 → retried `retries` times with backoff, then HTTP_STATUS', async () => {
    await expect(client({ retries: 2 }).fetchToFile(`${base}/500`, out('500.bin'))).rejects.toMatchObject({
      code: 'HTTP_STATUS',
      detail: { status: 500, attempts: 3 },
    });
    expect(hits.get('/500')).toBe(3);
  });

  test('503 once, then OK: the retry succeeds', async () => {
    const r = await client({ retries: 1 }).fetchToFile(`${base}/flaky`, out('flaky.bin'));
    expect(r.sha256).toBe(sha(payload));
    expect(hits.get('/flaky')).toBe(2);
  });

  test('no response headers → retried, then TIMEOUT', async () => {
    await expect(client({ retries: 1, readTimeoutMs: 300 }).fetchToFile(`${base}/hang`, out('hang.bin'))).rejects.toMatchObject({
      code: 'TIMEOUT',
      detail: { attempts: 2 },
    });
    expect(hits.get('/hang')).toBe(2);
  });

  test('body goes silent mid-way (read timeout) → TIMEOUT', async () => {
    await expect(client({ readTimeoutMs: 300 }).fetchToFile(`${base}/stall`, out('stall.bin'))).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(existsSync(out('stall.bin'))).toBe(false);
  });

  test('endless chunked body (no Content-Length) → HTTP_TOO_LARGE while streaming, no .part left', async () => {
    await expect(client({ retries: 2 }).fetchToFile(`${base}/endless`, out('endless.bin'), { maxBytes: 200_000 })).rejects.toMatchObject({
      code: 'HTTP_TOO_LARGE',
    });
    expect(hits.get('/endless')).toBe(1);
    expect(existsSync(out('endless.bin.part'))).toBe(false);
  });

  test('connection refused → NETWORK_ERROR naming the URL without its password', async () => {
    const port = await freePort();
    const err = await client()
      .fetchToFile(`https://user:s3cret@127.0.0.1:${port}/x`, out('refused.bin'))
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'NETWORK_ERROR' });
    expect(err.message).toContain(`127.0.0.1:${port}/x`);
    expect(err.message).not.toContain('s3cret');
  });
});

describe('HttpClient faults: proxy', () => {
  test('pinned certificate through a CONNECT proxy: the proxy sees the tunnel, the pin is still checked', async () => {
    const pinned = { kind: 'pinned' as const, path: pki.serverCert };
    expect(loadPin(pki.serverCert)).toMatch(/^[0-9a-f]{64}$/);
    const before = proxied.length;
    const r = await client({ proxy: proxyUrl, verifyCert: pinned }).fetchToFile(`${base}/pkg.wapt`, out('proxied.wapt'));
    expect(r.sha256).toBe(sha(payload));
    expect(proxied.length).toBeGreaterThan(before);
    await expect(
      client({ proxy: proxyUrl, verifyCert: { kind: 'pinned', path: pki.wrongHostCert } }).fetchToFile(`${base}/pkg.wapt`, out('proxied2.wapt')),
    ).rejects.toMatchObject({ code: 'TLS_PIN_MISMATCH' });
  });

  test('no_proxy=127.0.0.1 → the proxy is bypassed', async () => {
    const before = proxied.length;
    const r = await client({ proxy: proxyUrl, noProxy: 'example.org, 127.0.0.1' }).fetchToFile(`${base}/pkg.wapt`, out('direct.wapt'));
    expect(r.sha256).toBe(sha(payload));
    expect(proxied.length).toBe(before);
  });
});
