// Packager workflow §4–§6: update-package-sources, get-server-certificate /
// enable-check-certificate, generate-uuid / reset-uuid, show-params, sources and
// add/remove-upgrade-shutdown, each through the real CLI against a real nginx.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';

let env: AgentEnv;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Every file under `dir` with its sha256: "unchanged" means this map is equal. */
async function treeDigest(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) await walk(r);
      else out[r] = sha(await readFile(path.join(dir, r)));
    }
  };
  await walk('');
  return out;
}

beforeAll(async () => {
  env = await makeAgentEnv();
  // The vendor's "latest installer", served by the same HTTPS nginx.
  await mkdir(path.join(env.repoDir, 'vendor'), { recursive: true });
  await writeFile(path.join(env.repoDir, 'vendor', 'app-2.0.bin'), 'installer bytes of app 2.0\n');
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

async function sourceDir(name: string, sha256: string): Promise<string> {
  const dir = path.join(env.dir, name);
  await mkdir(path.join(dir, 'WAPT'), { recursive: true });
  await writeFile(
    path.join(dir, 'WAPT', 'control'),
    'package           : tis-app\nversion           : 1.0-1\narchitecture      : all\nsection           : base\npriority          : optional\n',
  );
  await writeFile(
    path.join(dir, 'setup.mjs'),
    [
      'export async function install(h) {}',
      'export async function update_package(h) {',
      `  await h.download('${env.nginx.url}/vendor/app-2.0.bin', 'app.bin', { sha256: '${sha256}' });`,
      "  return { version: '2.0-1' };",
      '}',
      '',
    ].join('\n'),
  );
  return dir;
}

// The hook child fetches with Node's own TLS: trust the test CA there too.
const hookEnv = () => ({ NODE_EXTRA_CA_CERTS: env.tls.caCert });

describe('update-package-sources', () => {
  test('downloads the checked installer and bumps the version in WAPT/control', async () => {
    const dir = await sourceDir('src-ok', sha('installer bytes of app 2.0\n'));
    const r = await env.run(['update-package-sources', dir], { json: true, env: hookEnv() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ package: 'tis-app', from_version: '1.0-1', version: '2.0-1', changed: true });
    expect(await readFile(path.join(dir, 'app.bin'), 'utf8')).toBe('installer bytes of app 2.0\n');
    expect(await readFile(path.join(dir, 'WAPT', 'control'), 'utf8')).toMatch(/^version\s*: 2\.0-1$/m);
  });

  test('an installer whose sha256 does not match is refused (SOURCE_DIGEST_MISMATCH) and the source directory is unchanged', async () => {
    const dir = await sourceDir('src-bad', sha('what the vendor published\n'));
    const before = await treeDigest(dir);
    const r = await env.run(['update-package-sources', dir], { json: true, env: hookEnv() });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.code).toBe('SOURCE_DIGEST_MISMATCH');
    expect(await treeDigest(dir)).toEqual(before);
  });

  test('--dry-run reports the new version and leaves the directory as it was', async () => {
    const dir = await sourceDir('src-dry', sha('installer bytes of app 2.0\n'));
    const before = await treeDigest(dir);
    const r = await env.run(['update-package-sources', dir, '--dry-run'], { json: true, env: hookEnv() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ version: '2.0-1', changed: true, dry_run: true });
    expect(await treeDigest(dir)).toEqual(before);
  });
});

describe('get-server-certificate / enable-check-certificate', () => {
  test('get-server-certificate prints the SHA-256 of the DER the server presents and saves it under ssl/server/', async () => {
    const r = await env.run(['get-server-certificate', env.nginx.url], { json: true });
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout);
    const pem = await readFile(env.tls.serverCert, 'utf8');
    const { X509Certificate } = await import('node:crypto');
    expect(data.fingerprint).toBe(sha(new X509Certificate(pem).raw));
    expect(data.saved).toBe(path.join(env.dir, 'ssl', 'server', `127.0.0.1_${env.nginx.port}.crt`));
    expect(new X509Certificate(await readFile(data.saved)).fingerprint256).toBe(new X509Certificate(pem).fingerprint256);
  });

  test('enable-check-certificate with a wrong --fingerprint is refused (FINGERPRINT_MISMATCH) and the ini is unchanged', async () => {
    const before = await readFile(env.configPath);
    const r = await env.run(['enable-check-certificate', env.nginx.url, '--fingerprint', 'ab'.repeat(32)], { json: true });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.code).toBe('FINGERPRINT_MISMATCH');
    expect(sha(await readFile(env.configPath))).toBe(sha(before));
  });

  test('without --fingerprint and without a terminal nothing is pinned (trust on first use is a conscious step)', async () => {
    const before = await readFile(env.configPath);
    const r = await env.run(['enable-check-certificate', env.nginx.url], { json: true });
    expect(r.code).toBe(2);
    expect(sha(await readFile(env.configPath))).toBe(sha(before));
  });

  test('the right fingerprint pins the certificate: verify_cert points at it and update still works', async () => {
    const fp = JSON.parse((await env.run(['get-server-certificate', env.nginx.url, '--dry-run'], { json: true })).stdout).fingerprint as string;
    const colons = fp.toUpperCase().match(/../g)!.join(':');
    const r = await env.run(['enable-check-certificate', env.nginx.url, '--fingerprint', colons], { json: true });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).verify_cert).toBe(path.join('ssl', 'server', `127.0.0.1_${env.nginx.port}.crt`));
    expect(await readFile(env.configPath, 'utf8')).toMatch(/^verify_cert = ssl\/server\/127\.0\.0\.1_\d+\.crt$/m);
    const up = await env.run(['update'], { json: true });
    expect(up.code).toBe(0);
    await env.configure(); // back to the CA bundle for the other tests
  });
});

describe('host identity and installed-package verbs', () => {
  test('generate-uuid writes a new host_uuid into the ini, keeping the other lines; reset-uuid removes it', async () => {
    const before = (await readFile(env.configPath, 'utf8')).split('\n');
    const r = await env.run(['generate-uuid'], { json: true });
    expect(r.code).toBe(0);
    const uuid = JSON.parse(r.stdout).host_uuid as string;
    expect(uuid).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    const after = (await readFile(env.configPath, 'utf8')).split('\n');
    expect(after).toContain(`host_uuid = ${uuid}`);
    expect(after.filter((l) => !l.startsWith('host_uuid'))).toEqual(before);
    const cfg = JSON.parse((await env.run(['config'], { json: true })).stdout);
    expect(JSON.stringify(cfg)).toContain(uuid);
    const reset = await env.run(['reset-uuid'], { json: true });
    expect(JSON.parse(reset.stdout).removed).toBe(uuid);
    expect((await readFile(env.configPath, 'utf8')).split('\n')).toEqual(before);
  });

  test('show-params masks secret parameters; sources shows the control sources of the installed version', async () => {
    const [pkg] = await env.publish({
      name: 'tis-params',
      files: {},
      setup: 'export async function install(h) { h.log("ok"); }\n',
    });
    expect(pkg).toBeDefined();
    expect((await env.run(['update'])).code).toBe(0);
    const inst = await env.run(['install', 'tis-params', '--params', JSON.stringify({ admin_password: 'hunter2', site: 'lyon' })]);
    expect(inst.stderr).not.toContain('hunter2');
    expect(inst.code).toBe(0);
    const r = await env.run(['show-params', 'tis-params'], { json: true });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).params).toEqual({ admin_password: '********', site: 'lyon' });
    expect(r.stdout).not.toContain('hunter2');
    const human = await env.run(['show-params', 'tis-params']);
    expect(human.stdout).not.toContain('hunter2');
    const src = await env.run(['sources', 'tis-params'], { json: true });
    expect(src.code).toBe(0);
    expect(JSON.parse(src.stdout).sources[0]).toMatchObject({ from: 'installed', version: '1.0-1' });
  });
});

describe('add-upgrade-shutdown / remove-upgrade-shutdown', () => {
  test('writes a systemd unit whose ExecStop runs upgrade before shutdown within the budget, and removes it', async () => {
    const unitDir = path.join(env.dir, 'units');
    const r = await env.run(['add-upgrade-shutdown', '--unit-dir', unitDir, '--budget', '20m', '--no-enable'], { json: true });
    expect(r.code).toBe(0);
    const unit = await readFile(path.join(unitDir, 'wapt-get-upgrade-shutdown.service'), 'utf8');
    expect(unit).toMatch(/^ExecStop=.*wapt-get upgrade --quiet --lock-timeout 60$/m);
    expect(unit).toMatch(/^TimeoutStopSec=1200$/m);
    expect(unit).toMatch(/^Before=shutdown\.target$/m);
    expect(unit).toMatch(/^RemainAfterExit=yes$/m);
    const bad = await env.run(['add-upgrade-shutdown', '--unit-dir', unitDir, '--budget', '5s', '--no-enable'], { json: true });
    expect(bad.code).toBe(2);
    const rm = await env.run(['remove-upgrade-shutdown', '--unit-dir', unitDir, '--no-enable'], { json: true });
    expect(rm.code).toBe(0);
    expect(await readdir(unitDir)).toEqual([]);
  });
});
