// HttpClient against a REAL nginx with real openssl-made certificates.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient, parseVerifyCert, type HttpOptions } from '../../../src/repo/http/index.js';
import { startNginx, type NginxHandle } from '../../helpers/nginx.js';
import { makeTlsPki, type TlsPki } from '../../helpers/tls-pki.js';

let dir: string;
let root: string;
let pki: TlsPki;
let good: NginxHandle;
let expired: NginxHandle;
let wrongHost: NginxHandle;
let mtls: NginxHandle;
let small: Buffer;
let big: Buffer;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const clients: HttpClient[] = [];

function client(o: Partial<HttpOptions> = {}): HttpClient {
  const c = new HttpClient({
    verifyCert: parseVerifyCert(pki.caCert, dir),
    connectTimeoutMs: 3000,
    readTimeoutMs: 3000,
    retries: 0,
    retryBaseMs: 10,
    maxRedirects: 5,
    allowInsecureHttp: false,
    userAgent: 'wapt-get-test',
    ...o,
  });
  clients.push(c);
  return c;
}

const REDIRECTS = `
  location = /r/loop { return 302 /r/loop; }
  location = /r/3 { return 302 /r/2; }
  location = /r/2 { return 302 /r/1; }
  location = /r/1 { return 302 /small.bin; }
  location = /r/down { return 302 http://$host:1/small.bin; }`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wapt-http-nginx-'));
  root = join(dir, 'www');
  pki = await makeTlsPki(join(dir, 'pki'));
  await mkdir(root);
  small = randomBytes(100_000);
  big = randomBytes(2 * 1024 * 1024);
  await writeFile(join(root, 'small.bin'), small);
  await writeFile(join(root, 'big.bin'), big);
  [good, expired, wrongHost, mtls] = await Promise.all([
    startNginx({ root, cert: pki.serverCert, key: pki.serverKey, extraLocations: REDIRECTS, plainHttp: true }),
    startNginx({ root, cert: pki.expiredCert, key: pki.expiredKey }),
    startNginx({ root, cert: pki.wrongHostCert, key: pki.wrongHostKey }),
    startNginx({ root, cert: pki.serverCert, key: pki.serverKey, clientCa: pki.clientCaCert }),
  ]);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await Promise.all([good, expired, wrongHost, mtls].filter(Boolean).map((n) => n.stop()));
  await rm(dir, { recursive: true, force: true });
});

const out = (name: string) => join(dir, name);

describe('HttpClient vs nginx: TLS trust (W-G4 verify_cert)', () => {
  test('ca-bundle: downloads, hashes on the fly, renames into place and leaves no .part', async () => {
    const progress: number[] = [];
    const r = await client().fetchToFile(`${good.url}/small.bin`, out('ok.bin'), {
      expectedSha256: sha(small),
      expectedSize: small.length,
      onProgress: (d) => progress.push(d),
    });
    expect(r).toMatchObject({ status: 'downloaded', sha256: sha(small), size: small.length, resumedFrom: 0 });
    expect(r.etag).toMatch(/^"/);
    expect(sha(await readFile(out('ok.bin')))).toBe(sha(small));
    expect(existsSync(out('ok.bin.part'))).toBe(false);
    expect(progress.at(-1)).toBe(small.length);
  });

  test('system CA mode rejects a private CA: TLS_ERROR unknown CA', async () => {
    await expect(client({ verifyCert: { kind: 'system' } }).fetchToFile(`${good.url}/small.bin`, out('sys.bin'))).rejects.toMatchObject({
      code: 'TLS_ERROR',
      detail: { reason: expect.stringMatching(/unknown CA/) },
    });
    expect(existsSync(out('sys.bin'))).toBe(false);
  });

  test('expired server certificate → TLS_ERROR (expired)', async () => {
    await expect(client().fetchToFile(`${expired.url}/small.bin`, out('exp.bin'))).rejects.toMatchObject({ code: 'TLS_ERROR', detail: { reason: 'expired' } });
  });

  test('wrong-host certificate in ca-bundle mode → TLS_ERROR (hostname mismatch)', async () => {
    await expect(client().fetchToFile(`${wrongHost.url}/small.bin`, out('wh.bin'))).rejects.toMatchObject({
      code: 'TLS_ERROR',
      detail: { reason: 'hostname mismatch' },
    });
  });

  test('pinned: the right pin is accepted even though the cert names another host', async () => {
    const mode = parseVerifyCert(pki.wrongHostCert, dir);
    expect(mode.kind).toBe('pinned');
    const r = await client({ verifyCert: mode }).fetchToFile(`${wrongHost.url}/small.bin`, out('pin.bin'));
    expect(r.sha256).toBe(sha(small));
  });

  test('pinned: a different server certificate (MITM) → TLS_PIN_MISMATCH, nothing requested', async () => {
    const before = (await good.readAccessLog()).length;
    await expect(
      client({ verifyCert: parseVerifyCert(pki.wrongHostCert, dir), retries: 2 }).fetchToFile(`${good.url}/small.bin`, out('mitm.bin')),
    ).rejects.toMatchObject({ code: 'TLS_PIN_MISMATCH' });
    expect(existsSync(out('mitm.bin'))).toBe(false);
    expect((await good.readAccessLog()).length).toBe(before);
  });

  test('verify off: an expired cert is accepted and a warning is emitted', async () => {
    const warnings: string[] = [];
    const c = client({ verifyCert: parseVerifyCert('0', dir), onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/verification is OFF/);
    expect((await c.fetchToFile(`${expired.url}/small.bin`, out('off.bin'))).sha256).toBe(sha(small));
  });

  test('mTLS: without a client certificate nginx refuses (HTTP_STATUS 400), with it the download works', async () => {
    await expect(client().fetchToFile(`${mtls.url}/small.bin`, out('m1.bin'))).rejects.toMatchObject({ code: 'HTTP_STATUS', detail: { status: 400 } });
    const r = await client({ clientCert: pki.clientCert, clientKey: pki.clientKey }).fetchToFile(`${mtls.url}/small.bin`, out('m2.bin'));
    expect(r.sha256).toBe(sha(small));
  });
});

describe('HttpClient vs nginx: URLs, redirects, statuses', () => {
  test('plain http:// is refused with INSECURE_URL, and works when allowInsecureHttp', async () => {
    await expect(client().fetchToFile(`${good.httpUrl}/small.bin`, out('h1.bin'))).rejects.toMatchObject({ code: 'INSECURE_URL' });
    const r = await client({ allowInsecureHttp: true }).fetchToFile(`${good.httpUrl}/small.bin`, out('h2.bin'));
    expect(r.sha256).toBe(sha(small));
  });

  test('follows up to maxRedirects and fails beyond (redirect limit, loop)', async () => {
    expect((await client({ maxRedirects: 3 }).fetchToFile(`${good.url}/r/3`, out('r3.bin'))).sha256).toBe(sha(small));
    await expect(client({ maxRedirects: 2 }).fetchToFile(`${good.url}/r/3`, out('r2.bin'))).rejects.toMatchObject({
      code: 'HTTP_STATUS',
      detail: { redirects: 3 },
    });
    await expect(client({ maxRedirects: 5 }).fetchToFile(`${good.url}/r/loop`, out('loop.bin'))).rejects.toMatchObject({ code: 'HTTP_STATUS' });
  });

  test('a redirect from https to http is refused (downgrade), even when http is allowed', async () => {
    await expect(client({ allowInsecureHttp: true }).fetchToFile(`${good.url}/r/down`, out('down.bin'))).rejects.toMatchObject({ code: 'INSECURE_URL' });
  });

  test('404 → HTTP_STATUS without retry (one request in the access log)', async () => {
    const before = (await good.readAccessLog()).length;
    await expect(client({ retries: 3 }).fetchToFile(`${good.url}/missing.wapt`, out('404.bin'))).rejects.toMatchObject({
      code: 'HTTP_STATUS',
      detail: { status: 404 },
    });
    const lines = (await good.readAccessLog()).slice(before);
    expect(lines.filter((l) => l.includes('/missing.wapt'))).toHaveLength(1);
  });

  test('head() returns status and headers, 404 included', async () => {
    const c = client();
    const ok = await c.head(`${good.url}/small.bin`);
    expect(ok.status).toBe(200);
    expect(ok.headers['content-length']).toBe(String(small.length));
    expect((await c.head(`${good.url}/nope`)).status).toBe(404);
  });

  test('oversized response (Content-Length above maxBytes) → HTTP_TOO_LARGE and no file left', async () => {
    await expect(client().fetchToFile(`${good.url}/big.bin`, out('large.bin'), { maxBytes: 1000 })).rejects.toMatchObject({ code: 'HTTP_TOO_LARGE' });
    expect(existsSync(out('large.bin'))).toBe(false);
    expect(existsSync(out('large.bin.part'))).toBe(false);
  });

  test('expected sha mismatch → ERR_BAD_DIGEST, the old file under the final name is untouched, no .part', async () => {
    await writeFile(out('digest.bin'), 'previous good copy');
    await expect(client().fetchToFile(`${good.url}/small.bin`, out('digest.bin'), { expectedSha256: '0'.repeat(64) })).rejects.toMatchObject({
      code: 'ERR_BAD_DIGEST',
    });
    expect(await readFile(out('digest.bin'), 'utf8')).toBe('previous good copy');
    expect(existsSync(out('digest.bin.part'))).toBe(false);
  });

  test('expected size mismatch → ERR_BAD_DIGEST before streaming', async () => {
    await expect(client().fetchToFile(`${good.url}/small.bin`, out('size.bin'), { expectedSize: 5 })).rejects.toMatchObject({ code: 'ERR_BAD_DIGEST' });
    expect(existsSync(out('size.bin'))).toBe(false);
  });
});

describe('HttpClient vs nginx: conditional GET and rate limit', () => {
  test('If-None-Match / If-Modified-Since → not-modified, nothing written, nginx logged 304', async () => {
    const c = client();
    const first = await c.fetchToFile(`${good.url}/small.bin`, out('cond.bin'));
    const byEtag = await c.fetchToFile(`${good.url}/small.bin`, out('cond2.bin'), { conditional: { etag: first.etag } });
    expect(byEtag).toMatchObject({ status: 'not-modified', sha256: null });
    const byDate = await c.fetchToFile(`${good.url}/small.bin`, out('cond2.bin'), { conditional: { lastModified: first.lastModified } });
    expect(byDate.status).toBe('not-modified');
    expect(existsSync(out('cond2.bin'))).toBe(false);
    const log = await good.readAccessLog();
    expect(log.filter((l) => l.startsWith('GET /small.bin 304'))).toHaveLength(2);
    const changed = await c.fetchToFile(`${good.url}/small.bin`, out('cond3.bin'), { conditional: { etag: '"other"' } });
    expect(changed.status).toBe('downloaded');
  });

  test('client killed at 50% of a download, then resume: Range + If-Range, nginx answers 206, final sha matches', async () => {
    const dest = out('resume.bin');
    await expect(
      client({ retries: 3 }).fetchToFile(`${good.url}/big.bin`, dest, {
        onProgress: (done) => {
          if (done >= big.length / 2) throw new Error('client killed');
        },
      }),
    ).rejects.toMatchObject({ code: 'INTERNAL', message: 'client killed' });
    expect(existsSync(dest)).toBe(false);
    const partSize = (await readFile(`${dest}.part`)).length;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThan(big.length);
    const r = await client().fetchToFile(`${good.url}/big.bin`, dest, { resume: true, expectedSha256: sha(big) });
    expect(r).toMatchObject({ status: 'downloaded', resumedFrom: partSize, size: big.length, sha256: sha(big) });
    expect(await good.readAccessLog()).toContain(`GET /big.bin 206 range=bytes=${partSize}- bytes=${big.length - partSize}`);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  test('limitRateBytesPerSec really slows a 2 MB download', async () => {
    const rate = 4 * 1024 * 1024; // 2 MB → ~0.5 s
    const t0 = Date.now();
    const r = await client({ limitRateBytesPerSec: rate }).fetchToFile(`${good.url}/big.bin`, out('slow.bin'));
    const elapsed = Date.now() - t0;
    expect(r.sha256).toBe(sha(big));
    expect(elapsed).toBeGreaterThanOrEqual(((big.length / rate) * 1000) / 2);
  });
});
