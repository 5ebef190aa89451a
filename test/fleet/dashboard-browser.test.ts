// The dashboard in a real headless browser (Debian's chromium): server-rendered pages
// behind admin auth, no scripts, no external assets. Assertions are on the DOM chromium
// built (--dump-dom); screenshots are kept as artefacts in $WAPT_GET_ARTIFACTS (default:
// <tmp>/wapt-get-artifacts/dashboard).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signAction } from '../../src/protocol/index.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { ensureSelfSignedTls } from '../../src/server/tls-selfsigned.js';
import { call, inventoryClaim, makeHost, sha256, statusClaim, type Host } from '../server/fleet-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const VIEW = 'dash-view-token-9';
const OPERATE = 'dash-operate-token-8';
const ARTIFACTS = process.env.WAPT_GET_ARTIFACTS ?? join(tmpdir(), 'wapt-get-artifacts', 'dashboard');
let tmp: string;
let ca: Buffer;
let server: RunningServer;
let good: Host;
let bad: Host;

function chromium(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--ignore-certificate-errors', // the test server's self-signed certificate
        `--user-data-dir=${join(tmp, `profile-${Math.random().toString(36).slice(2)}`)}`,
        ...args,
      ],
      { timeout: 90_000, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
}

const url = (path: string, token: string | null = VIEW) => `https://${token ? `viewer:${token}@` : ''}127.0.0.1:${server.port}${path}`;
const dom = (path: string, token?: string | null) => chromium(['--dump-dom', url(path, token)]);

/** The text of each row of table#id (cells joined by |), tags stripped. */
function rows(html: string, id: string): string[] {
  const m = new RegExp(`<table id="${id}">([\\s\\S]*?)</table>`).exec(html);
  if (!m) throw new Error(`no table#${id} in the page`);
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(m[1]!)![1]!;
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...r[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)]
      .map((c) =>
        c[1]!
          .replace(/<[^>]+>/g, '')
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&amp;/g, '&'),
      )
      .join('|'),
  );
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium): the dashboard test needs a real browser`);
  tmp = await mkdtemp(join(tmpdir(), 'wg-dash-'));
  await mkdir(ARTIFACTS, { recursive: true });
  const tls = await ensureSelfSignedTls(join(tmp, 'tls'));
  ca = await readFile(tls.certPath);
  await writeFile(join(tmp, 'admins'), `viewer view ${sha256(VIEW)}\nops operate ${sha256(OPERATE)}\n`);
  server = await startServer({
    repoDir: tmp,
    port: 0,
    ...tls,
    management: { dataDir: join(tmp, 'data'), openRegistration: true, adminTokensFile: join(tmp, 'admins') },
  });
  [good, bad] = await Promise.all([makeHost('D0000000-0000-4000-8000-00000000000d'), makeHost('E0000000-0000-4000-8000-00000000000e')]);
  const reg = (h: Host) => call(server, ca, 'POST', '/api/v1/register', { body: { host_uuid: h.uuid, certificate: h.pem, claim: inventoryClaim(h, 1) } });
  await reg(good);
  await reg(bad);
  const okPkgs = [{ package: 'tis-ok', version: '1-1', install_status: 'OK', error_code: null, last_audit_status: 'OK' }];
  await call(server, ca, 'POST', '/api/v1/status', { body: { claim: statusClaim(good, 2, { packages: okPkgs }) } });
  await call(server, ca, 'POST', '/api/v1/status', {
    body: {
      claim: statusClaim(bad, 2, {
        extra: {
          hostname: '<script>alert(1)</script>pc-bad',
          events: [{ op: 'install', package: 'tis-bad', version: '2-1', result: 'ERROR', error_code: 'ERR_EXIT_CODE', at: new Date().toISOString() }],
          pending_upgrades: [{ package: 'tis-ok', version: '2-1' }],
        },
      }),
    },
  });
  const { generateRsaKeyPair, issueCertificate } = await import('../../src/crypto/index.js');
  const k = await generateRsaKeyPair(2048);
  const cert = await issueCertificate({ commonName: 'ops', publicKey: k.publicKey, privateKey: k.privateKey, codeSigning: false, days: 5 });
  const action = signAction({ hostUuid: bad.uuid, action: 'install', args: ['tis-fix'], windowSecs: 600 }, { key: k.privateKey, chain: [cert] });
  expect((await call(server, ca, 'POST', '/api/v1/actions', { token: OPERATE, body: action })).status).toBe(201);
}, 90_000);

afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

test('without a credential the browser gets 401 and no host data', async () => {
  const html = await dom('/dashboard', null); // the browser is asked for credentials (Basic) and shows nothing
  expect(html).not.toContain(good.uuid);
  expect(html).not.toContain('<table');
  const r = await call(server, ca, 'GET', '/dashboard');
  expect([r.status, r.json.code, r.headers['www-authenticate']]).toEqual([401, 'AUTH_REQUIRED', expect.stringMatching(/^Basic/)]);
}, 120_000);

test('hosts page: both hosts with their status, the failing one marked, the hostile name inert (no script element)', async () => {
  const html = await dom('/dashboard');
  const r = rows(html, 'hosts');
  expect(r).toHaveLength(2);
  expect(r.find((x) => x.includes(good.uuid))).toMatch(/\|OK\|/);
  expect(r.find((x) => x.includes(bad.uuid))).toMatch(/\|ERROR\|/);
  expect(html).not.toMatch(/<script/i);
  expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;pc-bad');
  expect(html).toMatch(/<tr class="bad">/);
  await chromium(['--screenshot=' + join(ARTIFACTS, 'hosts.png'), '--window-size=1280,800', url('/dashboard')]);
  expect((await stat(join(ARTIFACTS, 'hosts.png'))).size).toBeGreaterThan(1000);
}, 120_000);

test('filters and search: status=ERROR and q narrow the list', async () => {
  expect(rows(await dom('/dashboard?status=ERROR'), 'hosts').map((x) => x.includes(bad.uuid))).toEqual([true]);
  expect(rows(await dom(`/dashboard?q=${good.uuid.slice(0, 6)}`), 'hosts').map((x) => x.includes(good.uuid))).toEqual([true]);
}, 120_000);

test('host page: inventory, packages with their error, pending upgrades, events, report history, queued action', async () => {
  const html = await dom(`/dashboard/host/${bad.uuid}`);
  expect(rows(html, 'inventory').some((x) => x.startsWith('UUID|' + bad.uuid))).toBe(true);
  expect(rows(html, 'packages')).toContainEqual(expect.stringContaining('tis-bad|2-1|ERROR|ERROR|ERR_EXIT_CODE'));
  expect(rows(html, 'pending')).toEqual(['tis-ok|2-1']);
  expect(rows(html, 'events')).toContainEqual(expect.stringContaining('install|tis-bad|2-1|ERROR|ERR_EXIT_CODE'));
  expect(rows(html, 'reports').length).toBe(2);
  expect(rows(html, 'actions')).toContainEqual(expect.stringContaining('install|tis-fix|ops|pending'));
  await chromium(['--screenshot=' + join(ARTIFACTS, 'host.png'), '--window-size=1280,1400', url(`/dashboard/host/${bad.uuid}`)]);
}, 120_000);

test('package pages and actions page: deployment counts by version and status; queued actions', async () => {
  expect(rows(await dom('/dashboard/packages'), 'package-stats')).toContainEqual('tis-bad|2-1|0|1|0|0');
  const pkg = await dom('/dashboard/package/tis-ok');
  expect(rows(pkg, 'deployment')).toContainEqual('1-1|1|0|1|0');
  expect(rows(pkg, 'package-hosts')).toHaveLength(2);
  expect(rows(await dom('/dashboard/actions'), 'action-list')).toContainEqual(expect.stringContaining('install|tis-fix|ops'));
  await chromium(['--screenshot=' + join(ARTIFACTS, 'packages.png'), '--window-size=1280,800', url('/dashboard/packages')]);
}, 120_000);
