// The production path: a REAL nginx serving a directory indexed by the real
// `wapt-get scanpackages`, configured with the essential lines of docs/nginx.md
// (read from the document itself, so the doc cannot drift from what is tested).
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../helpers/cli.js';
import { NGINX_BIN, startNginx, type NginxHandle } from '../helpers/nginx.js';
import { makeTlsPki, type TlsPki } from '../helpers/tls-pki.js';
import { readPackagesZip } from '../../src/repo/index-file/packages-zip.js';

const MADE = join(process.cwd(), 'fixtures/conformance/wapt-made');
const DOC = join(process.cwd(), 'docs/nginx.md');
const PKG = 'tis-hello_1.10.0-1_PROD.wapt';

let tmp: string;
let repo: string;
let pki: TlsPki;
let nginx: NginxHandle;
let ca: Buffer;

async function docText(): Promise<string> {
  return readFile(DOC, 'utf8');
}

/** The lines between the BEGIN/END essentials markers of docs/nginx.md. */
function essentials(doc: string): string {
  const m = /# BEGIN wapt-get essentials[^\n]*\n([\s\S]*?)\n\s*# END wapt-get essentials/.exec(doc);
  if (!m) throw new Error('docs/nginx.md lost its essentials markers');
  // test/helpers/nginx.ts already writes `etag on;` in the server block; nginx refuses it twice.
  if (!/^\s*etag on;$/m.test(m[1]!)) throw new Error('docs/nginx.md essentials lost `etag on;`');
  return m[1]!.replace(/^\s*etag on;$/m, '');
}

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(path: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: nginx.port, path, headers, ca, servername: 'localhost', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-serve-nginx-'));
  repo = join(tmp, 'wapt');
  await mkdir(repo);
  for (const f of (await readdir(join(MADE, 'repo'))).filter((f) => f.endsWith('.wapt'))) await copyFile(join(MADE, 'repo', f), join(repo, f));
  const k = join(MADE, 'keys');
  const [scanned, made] = await Promise.all([
    runCli([
      '-c',
      join(tmp, 'absent.ini'),
      'scanpackages',
      repo,
      '--trusted',
      join(MADE, 'trusted'),
      '--key',
      join(k, 'codesigner.pem'),
      '--cert',
      join(k, 'codesigner.crt'),
    ]),
    makeTlsPki(join(tmp, 'pki')),
  ]);
  expect(scanned.code).toBe(0);
  pki = made;
  ca = await readFile(pki.caCert);
  nginx = await startNginx({ root: repo, cert: pki.serverCert, key: pki.serverKey, extraLocations: essentials(await docText()) });
});

afterAll(async () => {
  await nginx?.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe('nginx with the docs/nginx.md essentials, over a scanned repository', () => {
  test('Packages and a .wapt byte for byte; the index reads back with its signed statement (W-F1, X2)', async () => {
    const idx = await get('/Packages');
    expect(idx.status).toBe(200);
    expect(idx.body).toEqual(await readFile(join(repo, 'Packages')));
    const copy = join(tmp, 'Packages.from-nginx');
    await writeFile(copy, idx.body);
    const parsed = await readPackagesZip(copy);
    expect(parsed.entries).toHaveLength(4);
    expect(parsed.statement).not.toBeNull();
    const pkg = await get(`/${PKG}`);
    expect(pkg.status).toBe(200);
    expect(pkg.body).toEqual(await readFile(join(repo, PKG)));
    expect(pkg.headers['content-type']).toBe('application/zip');
  });

  test('Range: 206 with Content-Range and exactly those bytes', async () => {
    const whole = await readFile(join(repo, PKG));
    const r = await get(`/${PKG}`, { range: 'bytes=1000-' });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 1000-${whole.length - 1}/${whole.length}`);
    expect(r.body).toEqual(whole.subarray(1000));
  });

  test('Cache-Control: no-cache for Packages, max-age for .wapt; ETag revalidation gives 304 (W-F3); a 404 gets no Cache-Control', async () => {
    const idx = await get('/Packages');
    expect(idx.headers['cache-control']).toBe('no-cache');
    expect((await get(`/${PKG}`)).headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    const r = await get('/Packages', { 'if-none-match': String(idx.headers.etag) });
    expect(r.status).toBe(304);
    const missing = await get('/tis-missing_1-1_PROD.wapt');
    expect(missing.status).toBe(404);
    expect(missing.headers['cache-control']).toBeUndefined(); // add_header without `always`
  });

  test('the scan cache and other dotfiles are denied (404); no listing of /', async () => {
    expect(await readdir(repo)).toContain('.wapt-get-scan-cache');
    expect((await get('/.wapt-get-scan-cache')).status).toBe(404);
    const root = await get('/'); // autoindex off and no index.html: 403 from nginx (the doc's full config says 404)
    expect([403, 404]).toContain(root.status);
    expect(root.body.toString()).not.toContain(PKG);
  });

  test('the whole server block of docs/nginx.md passes `nginx -t` (with test paths)', async () => {
    const block = /```nginx\n([\s\S]*?)```/
      .exec(await docText())![1]!
      .replaceAll('/etc/ssl/wapt/fullchain.pem', pki.serverCert)
      .replaceAll('/etc/ssl/wapt/privkey.pem', pki.serverKey)
      .replaceAll('root /var/www;', `root ${tmp};`);
    const prefix = join(tmp, 'nginx-t');
    await mkdir(prefix);
    const conf = join(prefix, 'nginx.conf');
    await writeFile(conf, `pid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log;\nevents {}\nhttp {\n  access_log off;\n${block}\n}\n`);
    const { stderr } = await promisify(execFile)(NGINX_BIN, ['-t', '-p', prefix, '-e', join(prefix, 'error.log'), '-c', conf]);
    expect(stderr).toMatch(/syntax is ok/);
    expect(stderr).toMatch(/test is successful/);
  });
});
