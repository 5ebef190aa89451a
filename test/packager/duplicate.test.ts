// Packager workflow (issue "Packager workflow" §1, §2, §3): duplicate a WAPT-made package
// from an upstream repository that has its own trust, edit host/group packages, publish
// into a web root. Real nginx over HTTPS, real zips, the real CLI.
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeAgentEnv, buildTestPackage, collect, spawnAgent, type AgentEnv } from '../helpers/agent-env.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { rewriteZip, editControlField, readMember, readZipEntries } from '../helpers/packages.js';

const CONFORMANCE = fileURLToPath(new URL('../../fixtures/conformance/wapt-made/', import.meta.url));
const UPSTREAM_TRUST = path.join(CONFORMANCE, 'trusted');

let env: AgentEnv;
let upstream: NginxHandle;
let packagerIni: string;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The CLI with the packager's ini (not the agent's). */
function packager(args: string[]) {
  return collect(spawnAgent(['--json', '-c', packagerIni, ...args]));
}

beforeAll(async () => {
  env = await makeAgentEnv();
  upstream = await startNginx({ root: path.join(CONFORMANCE, 'repo'), cert: env.tls.serverCert, key: env.tls.serverKey });
  // The packager's own ini: our repository and key, and an upstream section with ITS trust.
  packagerIni = path.join(env.dir, 'packager.ini');
  await writeFile(
    packagerIni,
    [
      '[global]',
      `repo_url = ${env.nginx.url}`,
      `verify_cert = ${env.tls.caCert}`,
      `trusted_certs_dir = ${env.pki.trustedDir}`,
      `dbdir = ${path.join(env.dir, 'packager-db')}`,
      'default_package_prefix = acme',
      `private_key = ${env.pki.codesigner.keyPath}`,
      `personal_certificate_path = ${env.pki.codesigner.certPath}`,
      '',
      '[upstream]',
      `repo_url = ${upstream.url}`,
      `verify_cert = ${env.tls.caCert}`,
      `trusted_certs_dir = ${UPSTREAM_TRUST}`,
      '',
    ].join('\n'),
  );
}, 120_000);

afterAll(async () => {
  await upstream?.stop();
  await env?.stop();
});

test('duplicate imports a WAPT-made package from an upstream with its own trust, renamed and re-signed with our key', async () => {
  const out = path.join(env.dir, 'dup-out');
  const r = await packager(['duplicate', '--repo', 'upstream', 'tis-extra', 'extra', '--source-dir', path.join(env.dir, 'acme-extra-wapt'), '-o', out]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const data = JSON.parse(r.stdout);
  expect(data).toMatchObject({ source: 'tis-extra', source_version: '0.9-2', source_signer: 'conformance-deployer', package: 'acme-extra' });
  // Our trust accepts the rebuilt package; the upstream's does not (our key signed it).
  const ours = await env.run(['--json', 'verify', '--trusted', env.pki.trustedDir, data.path]);
  expect(ours.code).toBe(0);
  expect(JSON.parse(ours.stdout).results[0]).toMatchObject({ package: 'acme-extra', version: '0.9-2', signer: 'test-codesigner' });
  const theirs = await env.run(['--json', 'verify', '--trusted', UPSTREAM_TRUST, data.path]);
  expect(theirs.code).toBe(3);
  // The payload came along byte for byte.
  const control = (await readMember(data.path, 'WAPT/control')).toString('utf8');
  expect(control).toMatch(/^package\s*: acme-extra$/m);
});

test('duplicate refuses an upstream package signed by a key the upstream section does not trust (SIGNER_UNTRUSTED), writes nothing', async () => {
  const foreign = path.join(env.dir, 'foreign');
  const file = await buildTestPackage(env.pki, env.dir, foreign, { name: 'tis-foreign', signedBy: 'codesigner' });
  const dir = path.join(env.dir, 'foreign-src');
  const r = await packager(['duplicate', file, 'acme-foreign', '--trusted', UPSTREAM_TRUST, '--source-dir', dir, '-o', path.join(env.dir, 'x')]);
  expect(r.code).toBe(3);
  expect(JSON.parse(r.stdout).error.code).toBe('SIGNER_UNTRUSTED');
  await expect(readdir(dir)).rejects.toThrow();
});

test('duplicate refuses a tampered source (MANIFEST_MISMATCH) and leaves no source directory', async () => {
  const src = path.join(CONFORMANCE, 'repo', 'tis-extra_0.9-2_x64_DEV_fr.wapt');
  const tampered = path.join(env.dir, 'tampered.wapt');
  const members = await readZipEntries(src);
  const payload = members.find((m) => !m.name.startsWith('WAPT/') && !m.name.endsWith('/'));
  expect(payload).toBeDefined();
  // The payload changes, the signed manifest does not: W-D3 must catch it.
  await rewriteZip(src, tampered, { replace: { [payload!.name]: 'changed by an attacker\n' } });
  const dir = path.join(env.dir, 'tampered-src');
  const r = await packager(['duplicate', tampered, 'acme-tampered', '--trusted', UPSTREAM_TRUST, '--source-dir', dir, '--dir-only']);
  expect(r.code).toBe(3);
  expect(JSON.parse(r.stdout).error.code).toBe('MANIFEST_MISMATCH');
  await expect(readdir(dir)).rejects.toThrow();
});

test.each(['../evil', 'a/b', 'bad name', '/abs'])('duplicate refuses the new name %j (W-B1: CONTROL_INVALID, exit 2) before writing anything', async (bad) => {
  const src = path.join(CONFORMANCE, 'repo', 'tis-extra_0.9-2_x64_DEV_fr.wapt');
  const dir = path.join(env.dir, `badname-${sha(Buffer.from(bad)).slice(0, 6)}`);
  const r = await packager(['duplicate', src, bad, '--trusted', UPSTREAM_TRUST, '--source-dir', dir, '--dir-only']);
  expect(r.code).toBe(2);
  expect(JSON.parse(r.stdout).error.code).toBe('CONTROL_INVALID');
  await expect(readdir(dir)).rejects.toThrow();
});

test('duplicate --dry-run verifies the source and writes nothing', async () => {
  const src = path.join(CONFORMANCE, 'repo', 'tis-extra_0.9-2_x64_DEV_fr.wapt');
  const dir = path.join(env.dir, 'dry-src');
  const r = await packager(['duplicate', src, 'acme-dry', '--trusted', UPSTREAM_TRUST, '--source-dir', dir, '--dry-run']);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true, source: 'tis-extra', package: 'acme-dry' });
  await expect(readdir(dir)).rejects.toThrow();
});

describe('edit-host / edit-group', () => {
  const host = '0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0';

  test('edit-host creates a host package signed by a deployer key, then bumps it and prints the depends diff', async () => {
    const hostRepo = path.join(env.dir, 'host-repo');
    await mkdir(hostRepo, { recursive: true });
    const key = ['--key', env.pki.deployer.keyPath, '--cert', env.pki.deployer.certPath];
    const first = await packager(['edit-host', host, '--repo-dir', hostRepo, '--add-depends', 'tis-a,tis-b', ...key]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ package: host, created: true, diff: [{ field: 'depends', added: ['tis-a', 'tis-b'], removed: [] }] });
    const file = path.join(hostRepo, `${host}.wapt`);
    const v1 = (await readMember(file, 'WAPT/control')).toString();
    expect(v1).toMatch(/^depends\s*: tis-a,tis-b$/m);

    const second = await packager(['edit-host', host, '--repo-dir', hostRepo, '--remove-depends', 'tis-a', '--add-conflicts', 'tis-old', ...key]);
    expect(second.code).toBe(0);
    const d = JSON.parse(second.stdout);
    expect(d.created).toBe(false);
    expect(d.diff).toEqual([
      { field: 'depends', added: [], removed: ['tis-a'] },
      { field: 'conflicts', added: ['tis-old'], removed: [] },
    ]);
    expect(d.version).not.toBe(d.from_version);
    const v2 = (await readMember(file, 'WAPT/control')).toString();
    expect(v2).toMatch(/^depends\s*: tis-b$/m);
    expect(v2).toMatch(/^conflicts\s*: tis-old$/m);
    const verify = await env.run(['--json', 'verify', '--trusted', env.pki.trustedDir, file]);
    expect(JSON.parse(verify.stdout).results[0]).toMatchObject({ ok: true, signer: 'test-deployer' });
  });

  test('edit-host of a host package that carries setup code is refused (PACKAGE_HAS_CODE) and the file is unchanged', async () => {
    const hostRepo = path.join(env.dir, 'host-repo-code');
    const built = await buildTestPackage(env.pki, env.dir, hostRepo, {
      name: host,
      section: 'host',
      setup: 'export async function install(h) { h.log("code in a host package"); }\n',
    });
    expect(path.basename(built)).toBe(`${host}.wapt`);
    const before = await readFile(built);
    const r = await packager([
      'edit-host',
      host,
      '--repo-dir',
      hostRepo,
      '--add-depends',
      'tis-c',
      '--key',
      env.pki.deployer.keyPath,
      '--cert',
      env.pki.deployer.certPath,
    ]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.code).toBe('PACKAGE_HAS_CODE');
    expect(sha(await readFile(built))).toBe(sha(before));
  });

  test('edit-group --dry-run shows the new version and diff, writes nothing', async () => {
    const repo = path.join(env.dir, 'group-repo');
    const built = await buildTestPackage(env.pki, env.dir, repo, { name: 'tis-office', template: 'group', version: '3-1', section: 'group', depends: 'tis-a' });
    const r = await packager(['edit-group', 'tis-office', '--repo-dir', repo, '--add-depends', 'tis-b', '--dry-run']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ from_version: '3-1', version: '3-2', path: null, dry_run: true });
    expect(await readdir(repo)).toEqual([path.basename(built)]);
  });
});

describe('upload-package into a web root', () => {
  test('an existing name_version with other bytes is refused (PACKAGE_EXISTS) and the published file is unchanged; --force replaces it', async () => {
    const web = path.join(env.dir, 'web');
    const a = await buildTestPackage(env.pki, env.dir, path.join(env.dir, 'build-a'), { name: 'tis-pub', version: '1.0-1', files: { 'a.txt': 'first\n' } });
    const b = await buildTestPackage(env.pki, env.dir, path.join(env.dir, 'build-b'), { name: 'tis-pub', version: '1.0-1', files: { 'a.txt': 'second\n' } });
    expect(path.basename(a)).toBe(path.basename(b));
    const first = await packager(['upload-package', a, '--to', web]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).uploaded[0].status).toBe('published');
    const again = await packager(['upload-package', a, '--to', web]);
    expect(JSON.parse(again.stdout).uploaded[0].status).toBe('unchanged');
    const published = await readFile(path.join(web, path.basename(a)));
    const clash = await packager(['upload-package', b, '--to', web]);
    expect(clash.code).toBe(2);
    expect(JSON.parse(clash.stdout).error.code).toBe('PACKAGE_EXISTS');
    expect(sha(await readFile(path.join(web, path.basename(a))))).toBe(sha(published));
    const forced = await packager(['upload-package', b, '--to', web, '--force']);
    expect(JSON.parse(forced.stdout).uploaded[0].status).toBe('replaced');
    expect(sha(await readFile(path.join(web, path.basename(b))))).toBe(sha(await readFile(b)));
  });

  test('a package that fails verification is refused (exit 3) and nothing is published', async () => {
    const web = path.join(env.dir, 'web-bad');
    const good = await buildTestPackage(env.pki, env.dir, path.join(env.dir, 'build-c'), { name: 'tis-good', files: { 'x.txt': 'x\n' } });
    const bad = path.join(env.dir, 'tis-bad_1.0-1.wapt');
    await rewriteZip(good, bad, { replace: { 'WAPT/control': editControlField('description', 'altered') } });
    const r = await packager(['upload-package', good, bad, '--to', web]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.code).toBe('CONTROL_SIGNATURE_INVALID');
    await expect(readdir(web)).rejects.toThrow();
  });

  test('build-upload builds, verifies and publishes a source directory in one step', async () => {
    const web = path.join(env.dir, 'web-bu');
    const src = path.join(env.dir, 'bu-src');
    await mkdir(path.join(src, 'WAPT'), { recursive: true });
    await writeFile(
      path.join(src, 'WAPT', 'control'),
      'package           : acme-bu\nversion           : 2.0-1\narchitecture      : all\nsection           : base\npriority          : optional\n',
    );
    await copyFile(path.join(CONFORMANCE, 'README.md'), path.join(src, 'README.md'));
    const r = await packager(['build-upload', src, '--to', web]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).uploaded[0]).toMatchObject({ package: 'acme-bu', version: '2.0-1', status: 'published' });
    expect(await readdir(web)).toEqual(['acme-bu_2.0-1.wapt']);
  });
});
