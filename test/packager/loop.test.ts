// The packager's loop end to end (issue "Packager workflow", Done when): import a WAPT-made
// package from an upstream with its own trust, rename, re-sign, upload it to a real
// `wapt-get serve` (admin token, index key), an agent installs it; edit a host package's
// depends, the agent's next upgrade follows. Also the upload refusals: no credential, a
// `view` credential, a package that fails verification, a colliding version, no index key.
import { type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTestPackage, collect, spawnAgent } from '../helpers/agent-env.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { editControlField, rewriteZip } from '../helpers/packages.js';
import { cleanupPki, getTestPki, type TestPki } from '../helpers/pki.js';
import { makeTlsPki, type TlsPki } from '../helpers/tls-pki.js';

const CONFORMANCE = fileURLToPath(new URL('../../fixtures/conformance/wapt-made/', import.meta.url));
const HOST = '5A3C1E00-0000-4000-8000-00000000CAFE';
const ADMIN = 'loop-admin-token';
const VIEW = 'loop-view-token';
const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

let tmp: string;
let pki: TestPki;
let tls: TlsPki;
let upstream: NginxHandle;
let port: number;
const servers: { child: ChildProcess; exit: Promise<number | null> }[] = [];
let packagerIni: string;
let agentIni: string;
let serveCert: Buffer;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** A real `wapt-get serve` child; resolves once it prints its dashboard line. */
async function startServe(args: string[], p: number): Promise<void> {
  const child = spawnAgent(['-c', join(tmp, 'absent.ini'), 'serve', '--port', String(p), '--tls-dir', join(tmp, 'tls'), ...args]);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 60_000);
    child.stdout!.on('data', () => {
      if (/^dashboard /m.test(out)) {
        clearTimeout(t);
        resolve();
      }
    });
    void exit.then((c) => reject(new Error(`serve exited ${c}: ${out}`)));
  });
  servers.push({ child, exit });
}

const packager = (args: string[], env: NodeJS.ProcessEnv = {}) => collect(spawnAgent(['--json', '-c', packagerIni, ...args], env), 90_000);
const agent = (args: string[]) => collect(spawnAgent(['--json', '-c', agentIni, ...args]), 90_000);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-packager-loop-'));
  pki = await getTestPki();
  tls = await makeTlsPki(join(tmp, 'upstream-tls'));
  upstream = await startNginx({ root: join(CONFORMANCE, 'repo'), cert: tls.serverCert, key: tls.serverKey });
  await mkdir(join(tmp, 'repo'));
  await mkdir(join(tmp, 'repo-host'));
  await writeFile(join(tmp, 'admins'), `packager admin ${sha(ADMIN)}\nviewer view ${sha(VIEW)}\n`);
  port = await freePort();
  await startServe(
    [
      '--repo',
      join(tmp, 'repo'),
      '--data-dir',
      join(tmp, 'data'),
      '--admin-tokens-file',
      join(tmp, 'admins'),
      '--index-key',
      pki.codesigner.keyPath,
      '--index-cert',
      pki.codesigner.certPath,
      '--trusted',
      pki.trustedDir,
    ],
    port,
  );
  const serverCert = join(tmp, 'tls', 'server.crt');
  serveCert = await readFile(serverCert);
  packagerIni = join(tmp, 'packager.ini');
  await writeFile(
    packagerIni,
    [
      '[global]',
      `repo_url = https://127.0.0.1:${port}/wapt`,
      `verify_cert = ${serverCert}`,
      `trusted_certs_dir = ${pki.trustedDir}`,
      `dbdir = ${join(tmp, 'packager-db')}`,
      'default_package_prefix = acme',
      `private_key = ${pki.codesigner.keyPath}`,
      `personal_certificate_path = ${pki.codesigner.certPath}`,
      '',
      '[upstream]',
      `repo_url = ${upstream.url}`,
      `verify_cert = ${tls.caCert}`,
      `trusted_certs_dir = ${join(CONFORMANCE, 'trusted')}`,
      '',
    ].join('\n'),
  );
  agentIni = join(tmp, 'agent.ini');
  await writeFile(
    agentIni,
    [
      '[global]',
      `repo_url = https://127.0.0.1:${port}/wapt`,
      `verify_cert = ${serverCert}`,
      `trusted_certs_dir = ${pki.trustedDir}`,
      `dbdir = ${join(tmp, 'agent-db')}`,
      `user_mode_root = ${join(tmp, 'root')}`,
      `host_uuid = ${HOST}`,
      // tis-extra is an x64, DEV, fr build (W-C4 filters)
      'maturities = DEV,PROD,',
      'locales = fr,en',
      'use_hostpackages = 0',
      '',
    ].join('\n'),
  );
}, 120_000);

afterAll(async () => {
  for (const s of servers) {
    s.child.kill('SIGTERM');
    await s.exit;
  }
  await upstream?.stop();
  if (pki) cleanupPki(pki);
  await rm(tmp, { recursive: true, force: true });
});

test('import a WAPT-made package from an upstream with its own trust, re-sign, upload to serve, an agent installs it', async () => {
  const out = join(tmp, 'built');
  const dup = await packager(['duplicate', '--repo', 'upstream', 'tis-extra', 'extra', '--source-dir', join(tmp, 'acme-extra-wapt'), '-o', out]);
  expect(dup.stderr).toBe('');
  expect(dup.code).toBe(0);
  const built = JSON.parse(dup.stdout).path as string;
  const up = await packager(['upload-package', built, '--to', `https://127.0.0.1:${port}`], { WAPT_ADMIN_TOKEN: ADMIN });
  expect(up.code).toBe(0);
  const res = JSON.parse(up.stdout).uploaded[0];
  expect(res).toMatchObject({ status: 'published', package: 'acme-extra', version: '0.9-2' });
  expect(res.index_version).toBeGreaterThan(0);
  // The agent sees it in the signed index serve re-signed, and installs it.
  expect((await agent(['update'])).code).toBe(0);
  const inst = await agent(['install', 'acme-extra']);
  expect(inst.stderr).not.toMatch(/error/);
  expect(inst.code).toBe(0);
  const list = JSON.parse((await agent(['list'])).stdout);
  expect(JSON.stringify(list)).toContain('acme-extra');
});

test('edit a host package: depends gain acme-tool, the agent’s next upgrade installs it', async () => {
  const tool = await buildTestPackage(pki, tmp, join(tmp, 'built'), { name: 'acme-tool', version: '1.0-1' });
  expect((await packager(['upload-package', tool, '--to', `https://127.0.0.1:${port}`], { WAPT_ADMIN_TOKEN: ADMIN })).code).toBe(0);
  const key = ['--key', pki.deployer.keyPath, '--cert', pki.deployer.certPath];
  const edit = await packager(['edit-host', HOST, '--repo-dir', join(tmp, 'repo-host'), '--add-depends', 'acme-tool', ...key]);
  expect(edit.code).toBe(0);
  expect(JSON.parse(edit.stdout).diff).toEqual([{ field: 'depends', added: ['acme-tool'], removed: [] }]);
  // serve was started without --host-repo: restart it with the host repository (host packages need a registered host over
  // mTLS in serve, so this agent reads them from a plain nginx, as docs/nginx.md describes for the host tree).
  const hostNginx = await startNginx({ root: join(tmp, 'repo-host'), cert: tls.serverCert, key: tls.serverKey });
  try {
    const ini =
      (await readFile(agentIni, 'utf8')).replace('use_hostpackages = 0', 'use_hostpackages = 1') +
      `[wapt-host]\nrepo_url = ${hostNginx.url}\nverify_cert = ${tls.caCert}\n`;
    await writeFile(agentIni, ini);
    expect((await agent(['update'])).code).toBe(0);
    const up = await agent(['upgrade']);
    expect(up.code).toBe(0);
    const list = JSON.stringify(JSON.parse((await agent(['list'])).stdout));
    expect(list).toContain('acme-tool');
    expect(list).toContain(HOST);
  } finally {
    await hostNginx.stop();
  }
});

describe('upload to serve: refusals', () => {
  let good: string;
  beforeAll(async () => {
    good = await buildTestPackage(pki, tmp, join(tmp, 'refusals'), { name: 'acme-refused', version: '1.0-1', files: { 'a.txt': 'one\n' } });
  });
  const to = () => ['--to', `https://127.0.0.1:${port}`];

  test('without a credential: refused before upload (USAGE, exit 2)', async () => {
    const r = await packager(['upload-package', good, ...to()], { WAPT_ADMIN_TOKEN: undefined });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('USAGE');
  });

  test('a wrong token: the server answers 401 (SERVER_REFUSED AUTH_INVALID), nothing published', async () => {
    const r = await packager(['upload-package', good, ...to()], { WAPT_ADMIN_TOKEN: 'not-a-token' });
    expect(r.code).toBe(1);
    const e = JSON.parse(r.stdout).error;
    expect(e).toMatchObject({ code: 'SERVER_REFUSED', detail: { status: 401, server_code: 'AUTH_INVALID' } });
    await expect(readFile(join(tmp, 'repo', 'acme-refused_1.0-1.wapt'))).rejects.toThrow();
  });

  test('a view credential: 403 ROLE_REQUIRED, nothing published', async () => {
    const r = await packager(['upload-package', good, ...to()], { WAPT_ADMIN_TOKEN: VIEW });
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'SERVER_REFUSED', detail: { status: 403, server_code: 'ROLE_REQUIRED' } });
    await expect(readFile(join(tmp, 'repo', 'acme-refused_1.0-1.wapt'))).rejects.toThrow();
  });

  test('a package that fails verification is refused by the server itself (422, its own code), nothing published', async () => {
    // upload-package verifies before sending; this is what a client that did not would send.
    const bad = join(tmp, 'acme-refused_1.0-1.wapt');
    await rewriteZip(good, bad, { replace: { 'WAPT/control': editControlField('description', 'altered') } });
    const body = await readFile(bad);
    const res = await new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/api/v1/packages/acme-refused_1.0-1.wapt',
          method: 'PUT',
          ca: serveCert,
          agent: false,
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/zip', 'content-length': String(body.length) },
        },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ status: r.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(res.status).toBe(422);
    expect(res.json.code).toBe('CONTROL_SIGNATURE_INVALID');
    await expect(readFile(join(tmp, 'repo', 'acme-refused_1.0-1.wapt'))).rejects.toThrow();
    // and through the CLI the same file is refused before anything is sent (exit 3)
    const r = await packager(['upload-package', bad, ...to()], { WAPT_ADMIN_TOKEN: ADMIN });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.code).toBe('CONTROL_SIGNATURE_INVALID');
  });

  test('a colliding name_version with other bytes: PACKAGE_EXISTS from the server, the published file unchanged', async () => {
    expect((await packager(['upload-package', good, ...to()], { WAPT_ADMIN_TOKEN: ADMIN })).code).toBe(0);
    const published = await readFile(join(tmp, 'repo', 'acme-refused_1.0-1.wapt'));
    const other = await buildTestPackage(pki, tmp, join(tmp, 'refusals-2'), { name: 'acme-refused', version: '1.0-1', files: { 'a.txt': 'two\n' } });
    const r = await packager(['upload-package', other, ...to()], { WAPT_ADMIN_TOKEN: ADMIN });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('PACKAGE_EXISTS');
    expect(sha(await readFile(join(tmp, 'repo', 'acme-refused_1.0-1.wapt')))).toBe(sha(published));
  });

  test('a serve without an index key refuses uploads (NO_INDEX_KEY), nothing written', async () => {
    const p2 = await freePort();
    await mkdir(join(tmp, 'repo2'));
    await startServe(['--repo', join(tmp, 'repo2'), '--data-dir', join(tmp, 'data2'), '--admin-tokens-file', join(tmp, 'admins')], p2);
    const r = await packager(['upload-package', good, '--to', `https://127.0.0.1:${p2}`], { WAPT_ADMIN_TOKEN: ADMIN });
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'SERVER_REFUSED', detail: { status: 409, server_code: 'NO_INDEX_KEY' } });
    await expect(readFile(join(tmp, 'repo2', 'acme-refused_1.0-1.wapt'))).rejects.toThrow();
  });
});
