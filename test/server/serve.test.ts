// `wapt-get serve` as a child process (the real CLI), fetched with node's https
// pinned to the printed certificate, and with our repository HTTP client
// configured the way a person would: verify_cert=<printed cert path> (W-G4).
import type { ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { HttpClient, parseVerifyCert } from '../../src/repo/http/index.js';
import { readPackagesZip } from '../../src/repo/index-file/packages-zip.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { makeTlsPki } from '../helpers/tls-pki.js';

const MADE = join(process.cwd(), 'fixtures/conformance/wapt-made');
const PKG = 'tis-group-demo_3-1_PROD.wapt';
const HOST_UUID = '6b7a3e1c-0d7e-4b44-9c43-2a6f1f1d0a11';

interface Serving {
  child: ChildProcess;
  url: string;
  port: number;
  fingerprint: string;
  pinPath: string | null;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `serve` and waits for its URL and fingerprint lines (or its early exit). */
function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Serving> {
  const child = spawnCli(['-c', join(tmp, 'absent.ini'), 'serve', '--port', '0', ...args], { env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start: ${err}`));
    }, 20_000);
    void exit.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}: ${err}`));
    });
    child.stdout!.on('data', () => {
      const url = /^listening on (https:\/\/127\.0\.0\.1:(\d+)\/)$/m.exec(out);
      const fp = /^sha256 fingerprint ([0-9a-f]{64})$/m.exec(out);
      if (!url || !fp) return;
      clearTimeout(timer);
      const pin = /^pin it in wapt-get\.ini: verify_cert=(.+)$/m.exec(out);
      resolve({ child, url: url[1]!, port: Number(url[2]), fingerprint: fp[1]!, pinPath: pin ? pin[1]! : null, stdout: () => out, stderr: () => err, exit });
    });
  });
}

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  peerSha256: string;
}

/** One request on a fresh connection, trusting only `ca`; the raw path is sent as is (no normalising). */
function get(s: Serving, path: string, ca: Buffer, o: { method?: string; headers?: Record<string, string> } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.port, path, method: o.method ?? 'GET', headers: o.headers, ca, agent: false }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerCertificate();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks),
          peerSha256: createHash('sha256').update(peer.raw).digest('hex'),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

let tmp: string;
let repo: string;
let hostRepo: string;
let serving: Serving;
let pinnedCa: Buffer;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-serve-'));
  repo = join(tmp, 'wapt');
  hostRepo = join(tmp, 'wapt-host');
  await mkdir(repo);
  await mkdir(hostRepo);
  for (const f of (await readdir(join(MADE, 'repo'))).filter((f) => f.endsWith('.wapt'))) await copyFile(join(MADE, 'repo', f), join(repo, f));
  await copyFile(join(MADE, 'repo', PKG), join(hostRepo, `${HOST_UUID}.wapt`));
  const scanned = await runCli(['-c', join(tmp, 'absent.ini'), 'scanpackages', repo, '--trusted', join(MADE, 'trusted')]);
  expect(scanned.code).toBe(0);
  serving = await startServe(['--repo', repo, '--host-repo', hostRepo, '--tls-dir', join(tmp, 'tls')]);
  pinnedCa = await readFile(serving.pinPath!);
});

afterAll(async () => {
  if (serving && serving.child.exitCode === null) serving.child.kill('SIGKILL');
  await rm(tmp, { recursive: true, force: true });
});

describe('serve: TLS and pinning', () => {
  test('prints the URL, and a fingerprint that is the SHA-256 of the certificate it serves and tells to pin', async () => {
    expect(serving.pinPath).toBe(join(tmp, 'tls/server.crt'));
    const der = new X509Certificate(pinnedCa).raw;
    expect(createHash('sha256').update(der).digest('hex')).toBe(serving.fingerprint);
    const r = await get(serving, '/Packages', pinnedCa);
    expect(r.peerSha256).toBe(serving.fingerprint);
  });

  test('W-G4: our HTTP client with verify_cert=<printed path> (pinned mode) downloads Packages intact', async () => {
    const mode = parseVerifyCert(serving.pinPath!, tmp);
    expect(mode.kind).toBe('pinned');
    const client = new HttpClient({
      verifyCert: mode,
      connectTimeoutMs: 3000,
      readTimeoutMs: 3000,
      retries: 0,
      retryBaseMs: 10,
      maxRedirects: 0,
      allowInsecureHttp: false,
      userAgent: 'wapt-get-test',
    });
    try {
      const dest = join(tmp, 'downloaded-Packages');
      const res = await client.fetchToFile(`${serving.url}wapt/Packages`, dest);
      expect(res.status).toBe('downloaded');
      expect(await readFile(dest)).toEqual(await readFile(join(repo, 'Packages')));
      expect((await readPackagesZip(dest)).entries).toHaveLength(4);
    } finally {
      await client.close();
    }
  });
});

describe('serve: files', () => {
  test('Packages and a .wapt byte for byte, as application/zip, with Cache-Control no-cache vs max-age', async () => {
    const idx = await get(serving, '/Packages', pinnedCa);
    expect(idx.status).toBe(200);
    expect(idx.body).toEqual(await readFile(join(repo, 'Packages')));
    expect(idx.headers['cache-control']).toBe('no-cache');
    const pkg = await get(serving, `/${PKG}`, pinnedCa);
    expect(pkg.status).toBe(200);
    expect(pkg.body).toEqual(await readFile(join(repo, PKG)));
    expect(pkg.headers['content-type']).toBe('application/zip');
    expect(pkg.headers['cache-control']).toMatch(/max-age=\d+/);
  });

  test('Range: 206 with Content-Range and exactly the bytes asked', async () => {
    const whole = await readFile(join(repo, PKG));
    const r = await get(serving, `/${PKG}`, pinnedCa, { headers: { range: 'bytes=100-' } });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 100-${whole.length - 1}/${whole.length}`);
    expect(r.body).toEqual(whole.subarray(100));
  });

  test('HEAD: the length and validators, no body', async () => {
    const r = await get(serving, `/${PKG}`, pinnedCa, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(Number(r.headers['content-length'])).toBe((await readFile(join(repo, PKG))).length);
    expect(r.headers.etag).toBeTruthy();
    expect(r.body.length).toBe(0);
  });

  test('W-F3: If-None-Match with the ETag gives 304 Not Modified and no body', async () => {
    const first = await get(serving, '/Packages', pinnedCa);
    const r = await get(serving, '/Packages', pinnedCa, { headers: { 'if-none-match': String(first.headers.etag) } });
    expect(r.status).toBe(304);
    expect(r.body.length).toBe(0);
  });

  test('W-F4: host package at /wapt-host/<uuid>.wapt; an unknown host is 404', async () => {
    const r = await get(serving, `/wapt-host/${HOST_UUID}.wapt`, pinnedCa);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(await readFile(join(hostRepo, `${HOST_UUID}.wapt`)));
    const missing = await get(serving, '/wapt-host/00000000-0000-0000-0000-000000000000.wapt', pinnedCa);
    expect(missing.status).toBe(404);
    expect(missing.headers['cache-control']).toBeUndefined(); // a 404 must not be cached like a package
  });

  test.each([
    ['dot-dot', '/../etc/passwd'],
    ['encoded dot-dot', '/%2e%2e/%2e%2e/etc/passwd'],
    ['encoded slash in dot-dot', '/wapt/..%2f..%2fetc%2fpasswd'],
    ['backslash', '/..%5c..%5cetc%5cpasswd'],
    ['NUL byte', '/Packages%00.wapt'],
    ['malformed escape', '/%zz'],
  ])('traversal refused (%s): 400 or 404, never a file outside the root', async (_name, path) => {
    const r = await get(serving, path, pinnedCa);
    expect([400, 404]).toContain(r.status);
    expect(r.body.toString()).not.toMatch(/root:/);
  });

  test.each([
    ['the root', '/'],
    ['the /wapt/ alias root', '/wapt/'],
    ['the host repository root', '/wapt-host/'],
  ])('no directory listing of %s (404)', async (_name, path) => {
    expect((await get(serving, path, pinnedCa)).status).toBe(404);
  });

  test('dotfiles (the scan cache) are not served', async () => {
    const names = await readdir(repo);
    expect(names).toContain('.wapt-get-scan-cache');
    expect((await get(serving, '/.wapt-get-scan-cache', pinnedCa)).status).toBe(404);
    expect((await get(serving, '/wapt/.wapt-get-scan-cache', pinnedCa)).status).toBe(404);
  });

  test('each request is logged on stderr with its status', async () => {
    await get(serving, `/${PKG}`, pinnedCa, { headers: { range: 'bytes=0-9' } });
    await new Promise((r) => setTimeout(r, 100));
    expect(serving.stderr()).toMatch(new RegExp(`"GET /${PKG.replace(/\./g, '\\.')}" 206 10 `));
    expect(serving.stderr()).toMatch(/"GET \/\.\.\/etc\/passwd" 400 /);
  });
});

describe('serve: options and bad input', () => {
  test('--cert/--key: serves that certificate and prints its fingerprint (no self-signed pin line)', async () => {
    const pki = await makeTlsPki(join(tmp, 'pki'));
    const s = await startServe(['--repo', repo, '--cert', pki.serverCert, '--key', pki.serverKey]);
    try {
      const der = new X509Certificate(await readFile(pki.serverCert)).raw;
      expect(s.fingerprint).toBe(createHash('sha256').update(der).digest('hex'));
      expect(s.pinPath).toBeNull();
      const r = await get(s, '/Packages', await readFile(pki.caCert));
      expect(r.status).toBe(200);
      expect(r.peerSha256).toBe(s.fingerprint);
    } finally {
      s.child.kill('SIGTERM');
      expect((await s.exit).code).toBe(0);
    }
  });

  test('default TLS dir <dbdir>/serve-tls; the certificate is reused on restart (pins keep working); SIGINT exits 0', async () => {
    const dbdir = join(tmp, 'db');
    const a = await startServe(['--repo', repo], { WAPT_GET_DBDIR: dbdir });
    expect(a.pinPath).toBe(join(dbdir, 'serve-tls/server.crt'));
    a.child.kill('SIGINT');
    expect(await a.exit).toEqual({ code: 0, signal: null });
    const b = await startServe(['--repo', repo], { WAPT_GET_DBDIR: dbdir });
    expect(b.fingerprint).toBe(a.fingerprint);
    b.child.kill('SIGINT');
    expect((await b.exit).code).toBe(0);
  });

  test.each([
    ['no --repo', [], /needs --repo/],
    ['--port 70000', ['--repo', '.', '--port', '70000'], /--port 70000/],
    ['--port abc', ['--repo', '.', '--port', 'abc'], /--port abc/],
    ['--cert without --key', ['--repo', '.', '--cert', 'x.crt'], /--cert and --key go together/],
    ['--repo naming a file', ['--repo', join(MADE, 'repo', PKG)], /not a directory/],
  ])('usage error (%s): exit 2', async (_name, args, message) => {
    const r = await runCli(['-c', join(tmp, 'absent.ini'), 'serve', ...(args as string[]), '--tls-dir', join(tmp, 'tls')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[USAGE]');
    expect(r.stderr).toMatch(message as RegExp);
  });

  test('the port already in use: exit 1 (IO_ERROR) naming it', async () => {
    const r = await runCli(['-c', join(tmp, 'absent.ini'), 'serve', '--repo', repo, '--port', String(serving.port), '--tls-dir', join(tmp, 'tls')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${serving.port} is already in use`));
  });
});

describe('serve: shutdown', () => {
  test('SIGTERM stops it cleanly: exit 0, a stopping line, the port closed', async () => {
    serving.child.kill('SIGTERM');
    expect(await serving.exit).toEqual({ code: 0, signal: null });
    expect(serving.stderr()).toMatch(/SIGTERM: stopping/);
    await expect(get(serving, '/Packages', pinnedCa)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
