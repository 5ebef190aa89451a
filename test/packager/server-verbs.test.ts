// Issue 14 §2 and §5 through a real `wapt-get serve`: `edit-host --server` (the host
// package fetched with an admin token, edited and signed by a deployer key, put back and
// checked there as the agent will check it) and `unregister` (the host asks, signed by
// its key, to be forgotten, then forgets its identity; nothing local changes when the
// server cannot be told).
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateHostIdentity } from '../../src/agent/index.js';
import { verifyPackage, field } from '../../src/package/index.js';
import { signReport } from '../../src/protocol/index.js';
import { TrustStore } from '../../src/crypto/index.js';
import { buildTestPackage, collect, spawnAgent } from '../helpers/agent-env.js';
import { cleanupPki, getTestPki, type TestPki } from '../helpers/pki.js';
import { callServe, startServe, type Serving } from '../helpers/serve.js';

const HOST = '7B3C1E00-0000-4000-8000-0000000000E1';
const OTHER = '7B3C1E00-0000-4000-8000-0000000000E2';
const ADMIN = 'server-verbs-admin';
const VIEW = 'server-verbs-view';
const TOKEN = 'server-verbs-enrol';
const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

let tmp: string;
let pki: TestPki;
let serving: Serving;
let ini: string;
let dbdir: string;

const cli = (args: string[], env: NodeJS.ProcessEnv = {}, config = ini) => collect(spawnAgent(['--json', '-c', config, ...args], env), 60_000);
const deployer = () => ['--key', pki.deployer.keyPath, '--cert', pki.deployer.certPath];
const hostFile = (uuid = HOST) => join(tmp, 'repo-host', `${uuid}.wapt`);

async function controlOf(file: string) {
  const v = await verifyPackage(file, { trust: await TrustStore.load(pki.trustedDir) });
  return { package: v.package, version: v.version, depends: field(v.control, 'depends'), section: field(v.control, 'section') };
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-server-verbs-'));
  pki = await getTestPki();
  await mkdir(join(tmp, 'repo'));
  await mkdir(join(tmp, 'repo-host'));
  await writeFile(join(tmp, 'admins'), `packager admin ${sha(ADMIN)}\nviewer view ${sha(VIEW)}\n`);
  await writeFile(join(tmp, 'token'), `${TOKEN}\n`);
  serving = await startServe(tmp, [
    '--repo',
    join(tmp, 'repo'),
    '--host-repo',
    join(tmp, 'repo-host'),
    '--data-dir',
    join(tmp, 'data'),
    '--admin-tokens-file',
    join(tmp, 'admins'),
    '--registration-token-file',
    join(tmp, 'token'),
    '--trusted',
    pki.trustedDir,
  ]);
  dbdir = join(tmp, 'db');
  ini = join(tmp, 'wapt-get.ini');
  await writeFile(
    ini,
    [
      '[global]',
      `wapt_server = ${serving.url.replace(/\/$/, '')}`,
      `repo_url = ${serving.url}wapt`,
      `verify_cert = ${serving.pin}`,
      `trusted_certs_dir = ${pki.trustedDir}`,
      `dbdir = ${dbdir}`,
      `host_uuid = ${HOST}`,
      'timeout = 5',
      '',
    ].join('\n'),
  );
}, 90_000);

afterAll(async () => {
  await serving?.stop();
  if (pki) cleanupPki(pki);
  await rm(tmp, { recursive: true, force: true });
});

describe('edit-host --server', () => {
  let first: Buffer;

  test('creates the host package on serve: signed by the deployer, named after the host, depends as asked', async () => {
    const r = await cli(['edit-host', HOST, '--server', serving.url, '--add-depends', 'acme-tool', ...deployer()], { WAPT_ADMIN_TOKEN: ADMIN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ created: true, server_status: 'published', diff: [{ field: 'depends', added: ['acme-tool'], removed: [] }] });
    expect(await controlOf(hostFile())).toMatchObject({ package: HOST, depends: 'acme-tool', section: 'host' });
    first = await readFile(hostFile());
  });

  test('a second edit starts from what serve holds: version bumped, both depends, file replaced', async () => {
    const before = await controlOf(hostFile());
    const r = await cli(['edit-host', HOST, '--server', serving.url, '--add-depends', 'acme-two', ...deployer()], { WAPT_ADMIN_TOKEN: ADMIN });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ created: false, from_version: before.version, server_status: 'replaced' });
    const after = await controlOf(hostFile());
    expect(after.depends).toBe('acme-tool,acme-two');
    expect(after.version).not.toBe(before.version);
  });

  test('--dry-run shows the change and leaves the file on serve as it was', async () => {
    const held = sha(await readFile(hostFile()));
    const r = await cli(['edit-host', HOST, '--server', serving.url, '--remove-depends', 'acme-tool', '--dry-run'], { WAPT_ADMIN_TOKEN: ADMIN });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true, diff: [{ field: 'depends', added: [], removed: ['acme-tool'] }] });
    expect(sha(await readFile(hostFile()))).toBe(held);
  });

  test('a view credential may read but not put: 403 ROLE_REQUIRED, the file unchanged', async () => {
    const held = sha(await readFile(hostFile()));
    const r = await cli(['edit-host', HOST, '--server', serving.url, '--add-depends', 'acme-three', ...deployer()], { WAPT_ADMIN_TOKEN: VIEW });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'SERVER_REFUSED', detail: { status: 403, server_code: 'ROLE_REQUIRED' } });
    expect(sha(await readFile(hostFile()))).toBe(held);
  });

  test('no credential: refused before anything is fetched (USAGE)', async () => {
    const r = await cli(['edit-host', HOST, '--server', serving.url, '--add-depends', 'x', ...deployer()], { WAPT_ADMIN_TOKEN: undefined });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('USAGE');
  });

  test('serve refuses an older host package (HOST_PACKAGE_ROLLBACK), keeping the newer one', async () => {
    const held = sha(await readFile(hostFile()));
    const res = await callServe(serving, 'PUT', `/api/v1/host-packages/${HOST}.wapt`, { token: ADMIN, body: first, contentType: 'application/zip' });
    expect([res.status, res.json.code]).toEqual([409, 'HOST_PACKAGE_ROLLBACK']);
    expect(sha(await readFile(hostFile()))).toBe(held);
  });

  test('serve refuses a package put under another host’s name (HOST_PACKAGE_MISMATCH), writing nothing', async () => {
    const res = await callServe(serving, 'PUT', `/api/v1/host-packages/${OTHER}.wapt`, { token: ADMIN, body: first, contentType: 'application/zip' });
    expect([res.status, res.json.code]).toEqual([409, 'HOST_PACKAGE_MISMATCH']);
    await expect(stat(hostFile(OTHER))).rejects.toThrow();
  });

  test('serve refuses a host package that carries code (PACKAGE_HAS_CODE, W-D5), writing nothing', async () => {
    const withCode = await buildTestPackage(pki, tmp, join(tmp, 'code'), {
      name: OTHER,
      section: 'host',
      setup: 'export async function install() {}\n',
    });
    const res = await callServe(serving, 'PUT', `/api/v1/host-packages/${OTHER}.wapt`, {
      token: ADMIN,
      body: await readFile(withCode),
      contentType: 'application/zip',
    });
    expect([res.status, res.json.code]).toEqual([422, 'PACKAGE_HAS_CODE']);
    await expect(stat(hostFile(OTHER))).rejects.toThrow();
  });

  test('serve refuses a host package whose signer it does not trust, writing nothing', async () => {
    const foreign = await buildTestPackage(pki, tmp, join(tmp, 'foreign'), { name: OTHER, section: 'host', signedBy: 'otherSigner' });
    const res = await callServe(serving, 'PUT', `/api/v1/host-packages/${OTHER}.wapt`, {
      token: ADMIN,
      body: await readFile(foreign),
      contentType: 'application/zip',
    });
    expect(res.status).toBe(422);
    expect(res.json.code).toBe('SIGNER_UNTRUSTED');
    await expect(stat(hostFile(OTHER))).rejects.toThrow();
  });
});

describe('unregister', () => {
  const registered = async () => (await callServe(serving, 'GET', `/api/v1/hosts/${HOST}`, { token: VIEW })).status;
  const identityDir = () => join(dbdir, 'host-identity');

  beforeAll(async () => {
    const r = await cli(['register'], { WAPT_GET_REGISTRATION_TOKEN: TOKEN });
    expect(r.code).toBe(0);
    await mkdir(join(dbdir, 'outbox'), { recursive: true, mode: 0o700 });
    await writeFile(join(dbdir, 'outbox', 'queued.json'), '{}');
  });

  test('--dry-run names what would go and sends nothing', async () => {
    const r = await cli(['unregister', '--dry-run']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true, server_status: 'not-sent', removed: [identityDir(), join(dbdir, 'outbox')] });
    expect(await registered()).toBe(200);
    expect((await stat(join(identityDir(), 'host.key'))).isFile()).toBe(true);
  });

  test('a server that cannot be reached: NETWORK error, the identity and outbox kept', async () => {
    const down = join(tmp, 'down.ini');
    await writeFile(down, (await readFile(ini, 'utf8')).replace(/^wapt_server = .*$/m, 'wapt_server = https://127.0.0.1:9'));
    const r = await cli(['unregister'], {}, down);
    expect(r.code).toBe(4);
    expect((await stat(join(identityDir(), 'host.key'))).isFile()).toBe(true);
    expect((await stat(join(dbdir, 'outbox', 'queued.json'))).isFile()).toBe(true);
    expect(await registered()).toBe(200);
  });

  test('a request with an old sequence is refused as a replay (409 REPLAY), the host kept', async () => {
    const id = await loadOrCreateHostIdentity(dbdir, { hostUuid: HOST });
    const claim = signReport('unregister', HOST, 1, {}, { key: id.key, chain: [id.certificate] });
    const res = await callServe(serving, 'POST', '/api/v1/unregister', { body: JSON.stringify({ claim }) });
    expect([res.status, res.json.code]).toEqual([409, 'REPLAY']);
    expect(await registered()).toBe(200);
  });

  test('a request signed by another key is refused, the host kept', async () => {
    const id = await loadOrCreateHostIdentity(dbdir, { hostUuid: HOST });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const claim = signReport('unregister', HOST, Date.now() + 10_000, {}, { key: privateKey, chain: [id.certificate] });
    const res = await callServe(serving, 'POST', '/api/v1/unregister', { body: JSON.stringify({ claim }) });
    expect(res.status).toBe(403);
    expect(await registered()).toBe(200);
  });

  test('unregister: the server forgets the host, the identity and outbox go, the audit log says so', async () => {
    const r = await cli(['unregister']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ server_status: 'unregistered', host_uuid: HOST, removed: [identityDir(), join(dbdir, 'outbox')] });
    expect(await registered()).toBe(404);
    await expect(stat(identityDir())).rejects.toThrow();
    await expect(stat(join(dbdir, 'outbox'))).rejects.toThrow();
    const audit = (await readFile(join(tmp, 'data', 'audit.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(audit.some((e) => e.event === 'unregister' && e.host_uuid === HOST)).toBe(true);
  });

  test('unregister again: NOT_REGISTERED (exit 1), nothing sent', async () => {
    const r = await cli(['unregister']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('NOT_REGISTERED');
  });

  test('register again makes a new key; after an admin forgets the host, unregister still forgets it locally', async () => {
    const again = await cli(['register'], { WAPT_GET_REGISTRATION_TOKEN: TOKEN });
    expect(again.code).toBe(0);
    expect(await registered()).toBe(200);
    expect((await callServe(serving, 'DELETE', `/api/v1/hosts/${HOST}`, { token: ADMIN })).status).toBe(200);
    const r = await cli(['unregister']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).server_status).toBe('already-forgotten');
    await expect(stat(identityDir())).rejects.toThrow();
  });
});
