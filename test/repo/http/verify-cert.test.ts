// parseVerifyCert (W-G4 verify_cert), proxy selection, URL redaction, throttle.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bypassesProxy, derSha256, loadPin, parseVerifyCert, proxyFromEnv, redactUrl } from '../../../src/repo/http/index.js';
import { TokenBucket } from '../../../src/repo/http/throttle.js';
import { makeTlsPki, type TlsPki } from '../../helpers/tls-pki.js';
import { X509Certificate } from 'node:crypto';

let dir: string;
let pki: TlsPki;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wapt-verify-cert-'));
  pki = await makeTlsPki(join(dir, 'pki'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('parseVerifyCert (W-G4)', () => {
  test.each(['0', 'false', 'OFF', ' no '])('%p → off', (v) => {
    expect(parseVerifyCert(v, dir)).toEqual({ kind: 'off' });
  });
  test.each(['1', 'true', 'On', 'yes'])('%p → system', (v) => {
    expect(parseVerifyCert(v, dir)).toEqual({ kind: 'system' });
  });
  test('unset or empty → system (secure default)', () => {
    expect(parseVerifyCert(undefined, dir)).toEqual({ kind: 'system' });
    expect(parseVerifyCert('  ', dir)).toEqual({ kind: 'system' });
  });
  test('a CA certificate file → ca-bundle', () => {
    expect(parseVerifyCert(pki.caCert, dir)).toEqual({ kind: 'ca-bundle', path: pki.caCert });
  });
  test('exactly one non-CA certificate → pinned', () => {
    expect(parseVerifyCert(pki.serverCert, dir)).toEqual({ kind: 'pinned', path: pki.serverCert });
  });
  test('a leaf plus its CA in one file → ca-bundle, not pinned', async () => {
    const both = join(dir, 'chain.pem');
    await writeFile(both, (await readFile(pki.serverCert, 'utf8')) + (await readFile(pki.caCert, 'utf8')));
    expect(parseVerifyCert(both, dir).kind).toBe('ca-bundle');
  });
  test('a relative path resolves against baseDir', () => {
    expect(parseVerifyCert('pki/ca.crt', dir)).toEqual({ kind: 'ca-bundle', path: join(dir, 'pki/ca.crt') });
  });
  test('missing file → CONFIG_INVALID', () => {
    expect(() => parseVerifyCert('nope.pem', dir)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
  test('file without a certificate → CERT_INVALID', async () => {
    await writeFile(join(dir, 'junk.pem'), 'not a certificate');
    expect(() => parseVerifyCert('junk.pem', dir)).toThrow(expect.objectContaining({ code: 'CERT_INVALID' }));
  });
  test('loadPin is the SHA-256 of the DER (same as openssl x509 -fingerprint -sha256)', async () => {
    const cert = new X509Certificate(await readFile(pki.serverCert));
    expect(loadPin(pki.serverCert)).toBe(cert.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(derSha256(cert.raw)).toBe(loadPin(pki.serverCert));
  });
});

describe('proxy selection', () => {
  const env = { https_proxy: 'http://proxy:3128', HTTP_PROXY: 'http://p2:8080', no_proxy: 'internal.example, 10.0.0.5, .corp:8443' };
  test('https_proxy for https, HTTP_PROXY (upper case) for http', () => {
    expect(proxyFromEnv('https://repo.example/wapt', env)).toBe('http://proxy:3128');
    expect(proxyFromEnv('http://repo.example/wapt', env)).toBe('http://p2:8080');
  });
  test('no_proxy: exact host, domain suffix, IP, port-qualified entry', () => {
    expect(proxyFromEnv('https://internal.example/x', env)).toBeUndefined();
    expect(proxyFromEnv('https://a.internal.example/x', env)).toBeUndefined();
    expect(proxyFromEnv('https://10.0.0.5/x', env)).toBeUndefined();
    expect(proxyFromEnv('https://srv.corp:8443/x', env)).toBeUndefined();
    expect(proxyFromEnv('https://srv.corp/x', env)).toBe('http://proxy:3128');
    expect(proxyFromEnv('https://notinternal.example/x', env)).toBe('http://proxy:3128');
  });
  test('loopback is not bypassed implicitly; no_proxy=127.0.0.1 or * bypasses it', () => {
    expect(bypassesProxy(new URL('https://127.0.0.1:8443/'), undefined)).toBe(false);
    expect(bypassesProxy(new URL('https://127.0.0.1:8443/'), '127.0.0.1')).toBe(true);
    expect(bypassesProxy(new URL('https://[::1]:8443/'), '::1')).toBe(true);
    expect(bypassesProxy(new URL('https://anything/'), '*')).toBe(true);
  });
});

describe('redactUrl and throttle', () => {
  test('user:password is removed from URLs', () => {
    expect(redactUrl('https://bob:hunter2@repo.example/wapt/x.wapt')).toBe('https://repo.example/wapt/x.wapt');
    expect(redactUrl('https://repo.example/a')).toBe('https://repo.example/a');
  });
  test('TokenBucket holds the long-run rate (100 KB at 200 KB/s ≥ ~0.45 s)', async () => {
    const bucket = new TokenBucket(200_000);
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) await bucket.take(1000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
  });
  test('TokenBucket rejects a non-positive rate', () => {
    expect(() => new TokenBucket(0)).toThrow(RangeError);
  });
});
