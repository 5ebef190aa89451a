// W-G4 / source notes §9: wapt-get.ini resolved once into a typed WaptConfig.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/agent/config.js';

let dir: string;
let iniPath: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wapt-cfg-'));
  iniPath = path.join(dir, 'etc', 'wapt-get.ini');
  await fs.mkdir(path.dirname(iniPath));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const noMachineId = () => path.join(dir, 'no-machine-id');
const load = (text: string, extra: Partial<Parameters<typeof loadConfig>[0]> = {}) =>
  fs.writeFile(iniPath, text).then(() => loadConfig({ path: iniPath, env: {}, isRoot: true, machineIdPath: noMachineId(), ...extra }));

const FULL = `; a complete wapt-get.ini
[global]
repo_url = https://repo.example.org/wapt/
dbdir = ../state
cachedir = /var/cache/wapt-get
trusted_certs_dir = ssl-trusted
use_hostpackages = 1
host_uuid = 4C4C4544-0036-3010-8052-B4C04F4E4D32
verify_cert = ca/bundle.pem
http_proxy = http://proxy.example.org:3128
use_http_proxy_for_repo = true
maturities = PROD, PREPROD
locales = fr, en
architecture = x86
timeout = 12.5
client_certificate = client.crt
client_private_key = client.key
private_key = keys/me.pem
personal_certificate_path = keys/me.crt
default_package_prefix = acme
loglevel = DEBUG
user_mode_root = /home/alice/apps
allow_unsigned_index = no
allow_insecure_http = off
install_timeout = 2h
lock_timeout = 30
limit_rate = 512k
index_max_age = 1d
host_profiles = lab, office

[wapt-templates]
repo_url = https://store.wapt.fr/wapt

[extra]
repo_url = http://extra.example.org/wapt
priority = 10
verify_cert = 0
allow_insecure_http = 1
use_http_proxy_for_repo = 0

[mirror.site2]
repo_url = https://mirror2.example.org/wapt
timeout = 3

[low]
repo_url = https://low.example.org/wapt
priority = -5

[wapt-host]
repo_url = https://hosts.example.org/wapt-host
verify_cert = 1
`;

describe('loadConfig defaults', () => {
  it('a missing file gives the documented defaults (root)', async () => {
    const c = await loadConfig({ path: iniPath, env: {}, isRoot: true, machineIdPath: noMachineId() });
    expect(c).toMatchObject({
      configPath: iniPath,
      configFound: false,
      dbdir: '/var/lib/wapt-get',
      dbPath: '/var/lib/wapt-get/waptdb.sqlite',
      lockPath: '/var/lib/wapt-get/wapt-get.lock',
      cacheDir: '/var/lib/wapt-get/cache',
      trustedCertsDir: path.join(dir, 'etc', 'ssl'),
      repos: [],
      useHostPackages: false,
      hostRepo: null,
      hostUuid: null,
      maturities: ['PROD', ''],
      locales: [],
      timeoutMs: 30_000,
      installTimeoutMs: 3_600_000,
      lockTimeoutMs: 60_000,
      limitRate: null,
      indexMaxAgeMs: null,
      verifyCert: true,
      defaultPackagePrefix: 'tis',
      loglevel: 'warning',
      userModeRoot: null,
      allowUnsignedIndex: false,
      allowInsecureHttp: false,
    });
    const arch = { x64: 'x64', ia32: 'x86', arm64: 'arm64', arm: 'arm' }[process.arch as 'x64'] ?? process.arch;
    expect(c.architecture).toBe(arch);
  });

  it('default paths: $WAPT_GET_CONFIG, else /etc as root, else ~/.config and ~/.local/state', async () => {
    const home = path.join(dir, 'home');
    const asUser = await loadConfig({ env: { HOME: home }, isRoot: false });
    expect(asUser.configPath).toBe(path.join(home, '.config', 'wapt-get', 'wapt-get.ini'));
    expect(asUser.dbdir).toBe(path.join(home, '.local', 'state', 'wapt-get'));
    expect(asUser.trustedCertsDir).toBe(path.join(home, '.config', 'wapt-get', 'ssl'));
    expect((await loadConfig({ env: {}, isRoot: true })).configPath).toBe('/etc/wapt-get/wapt-get.ini');
    await fs.writeFile(iniPath, '[global]\nrepo_url = https://r.example/wapt\n');
    const viaEnv = await loadConfig({ env: { WAPT_GET_CONFIG: iniPath, HOME: home }, isRoot: false });
    expect(viaEnv.configFound).toBe(true);
    expect(viaEnv.repos.map((r) => r.url)).toEqual(['https://r.example/wapt']);
  });

  it('host UUID derived from /etc/machine-id when not configured; an invalid machine-id gives null', async () => {
    const mid = path.join(dir, 'machine-id');
    await fs.writeFile(mid, '3d1219c7c4c5404aaa1f6d2a48adfda4\n');
    expect((await loadConfig({ path: iniPath, env: {}, machineIdPath: mid })).hostUuid).toBe('3D1219C7-C4C5-404A-AA1F-6D2A48ADFDA4');
    await fs.writeFile(mid, 'not-an-id');
    expect((await loadConfig({ path: iniPath, env: {}, machineIdPath: mid })).hostUuid).toBeNull();
  });
});

describe('loadConfig with a full wapt-get.ini', () => {
  it('every key lands typed, relative paths resolved against the ini directory', async () => {
    const c = await load(FULL);
    const etc = path.join(dir, 'etc');
    expect(c).toMatchObject({
      configFound: true,
      dbdir: path.join(dir, 'state'),
      dbPath: path.join(dir, 'state', 'waptdb.sqlite'),
      cacheDir: '/var/cache/wapt-get',
      trustedCertsDir: path.join(etc, 'ssl-trusted'),
      useHostPackages: true,
      hostUuid: '4C4C4544-0036-3010-8052-B4C04F4E4D32',
      verifyCert: path.join(etc, 'ca', 'bundle.pem'),
      httpProxy: 'http://proxy.example.org:3128',
      useHttpProxyForRepo: true,
      maturities: ['PROD', 'PREPROD'],
      locales: ['fr', 'en'],
      architecture: 'x86',
      timeoutMs: 12_500,
      clientCertificate: path.join(etc, 'client.crt'),
      clientPrivateKey: path.join(etc, 'client.key'),
      privateKey: path.join(etc, 'keys', 'me.pem'),
      personalCertificatePath: path.join(etc, 'keys', 'me.crt'),
      defaultPackagePrefix: 'acme',
      loglevel: 'debug',
      userModeRoot: '/home/alice/apps',
      allowUnsignedIndex: false,
      allowInsecureHttp: false,
      installTimeoutMs: 7_200_000,
      lockTimeoutMs: 30_000,
      limitRate: 512 * 1024,
      indexMaxAgeMs: 86_400_000,
      hostProfiles: ['lab', 'office'],
    });
  });

  it('repositories: [global] plus every section with repo_url (not wapt-host/wapt-templates), by priority then ini order', async () => {
    const c = await load(FULL);
    expect(c.repos.map((r) => [r.name, r.priority])).toEqual([
      ['extra', 10],
      ['global', 0],
      ['mirror.site2', 0],
      ['low', -5],
    ]);
    const [extra, main, mirror] = c.repos;
    expect(main).toMatchObject({
      url: 'https://repo.example.org/wapt', // trailing slash dropped
      verifyCert: path.join(dir, 'etc', 'ca', 'bundle.pem'),
      httpProxy: 'http://proxy.example.org:3128',
      timeoutMs: 12_500,
      clientCertificate: path.join(dir, 'etc', 'client.crt'),
    });
    // Per-section keys win; the rest is inherited from [global].
    expect(extra).toMatchObject({ verifyCert: false, allowInsecureHttp: true, httpProxy: null, timeoutMs: 12_500 });
    expect(mirror).toMatchObject({ url: 'https://mirror2.example.org/wapt', timeoutMs: 3000, httpProxy: 'http://proxy.example.org:3128' });
  });

  it('[wapt-host] is the host repository (W-F4), else <repo_url>-host, and none unless use_hostpackages', async () => {
    expect((await load(FULL)).hostRepo).toMatchObject({ name: 'wapt-host', url: 'https://hosts.example.org/wapt-host', verifyCert: true });
    const derived = await load('[global]\nrepo_url = https://r.example/wapt\nuse_hostpackages = 1\n');
    expect(derived.hostRepo?.url).toBe('https://r.example/wapt-host');
    const off = await load('[global]\nrepo_url = https://r.example/wapt\n');
    expect(off.hostRepo).toBeNull();
  });

  it('[global] repositories= limits the extra repositories to those named (others ignored)', async () => {
    const c = await load(FULL.replace('[global]\n', '[global]\nrepositories = low, extra\n'));
    expect(c.repos.map((r) => r.name)).toEqual(['extra', 'global', 'low']);
  });

  it('dbpath (WAPT) sets the DB file; empty maturities= accepts all; PROD, keeps the unmarked entry', async () => {
    const c = await load('[global]\ndbpath = /srv/wapt/db.sqlite\nmaturities =\n');
    expect(c).toMatchObject({ dbdir: '/srv/wapt', dbPath: '/srv/wapt/db.sqlite', cacheDir: '/srv/wapt/cache', maturities: [] });
    expect((await load('[global]\nmaturities = PROD,\n')).maturities).toEqual(['PROD', '']);
  });

  it('environment beats the ini, overrides beat the environment; WAPT_GET_DBDIR beats an ini dbpath', async () => {
    const env = { WAPT_GET_DBDIR: 'envdb', WAPT_GET_CACHEDIR: '/env/cache', WAPT_GET_TRUSTED: '/env/ssl', WAPT_GET_USER_ROOT: '/env/root' };
    const c = await load('[global]\ndbpath = /srv/wapt/db.sqlite\ntrusted_certs_dir = /ini/ssl\n', {
      env,
      cwd: '/work/here',
      overrides: { trusted_certs_dir: 'cli-ssl', lock_timeout: 5, repo_url: 'https://cli.example/wapt' },
    });
    expect(c).toMatchObject({
      dbdir: '/work/here/envdb',
      dbPath: '/work/here/envdb/waptdb.sqlite',
      cacheDir: '/env/cache',
      trustedCertsDir: '/work/here/cli-ssl',
      userModeRoot: '/env/root',
      lockTimeoutMs: 5000,
    });
    expect(c.repos.map((r) => r.url)).toEqual(['https://cli.example/wapt']);
  });
});

describe('WAPT key names', () => {
  it('uuid and public_certs_dir (WAPT 1.8 names) are read when ours are absent', async () => {
    const c = await load('[global]\nuuid = 11111111-2222-3333-4444-555555555555\npublic_certs_dir = /opt/wapt/ssl\n');
    expect(c.hostUuid).toBe('11111111-2222-3333-4444-555555555555');
    expect(c.trustedCertsDir).toBe('/opt/wapt/ssl');
  });
});

describe('invalid values → CONFIG_INVALID naming the section and key', () => {
  const cases: [string, string, RegExp][] = [
    ['timeout that is not a number', '[global]\ntimeout = soon\n', /\[global\] timeout/],
    ['boolean that is not one', '[global]\nuse_hostpackages = maybe\n', /\[global\] use_hostpackages/],
    ['repo_url with an ftp scheme', '[global]\nrepo_url = ftp://x/wapt\n', /\[global\] repo_url/],
    ['repo_url that is not a URL', '[global]\n[r2]\nrepo_url = not a url\n', /\[r2\] repo_url/],
    ['priority that is not an integer', '[r2]\nrepo_url = https://x\npriority = high\n', /\[r2\] priority/],
    ['unknown loglevel', '[global]\nloglevel = chatty\n', /\[global\] loglevel/],
    ['limit_rate with a bad unit', '[global]\nlimit_rate = 5 parsecs\n', /\[global\] limit_rate/],
    ['architecture with spaces', '[global]\narchitecture = x 64\n', /\[global\] architecture/],
    ['http_proxy that is not a URL', '[global]\nhttp_proxy = proxy:3128\n', /\[global\] http_proxy/],
    ['install_timeout negative', '[global]\ninstall_timeout = -1\n', /\[global\] install_timeout/],
    ['key outside any section', 'repo_url = https://x\n', /outside any \[section\]/],
    ['repositories naming a missing section', '[global]\nrepositories = nowhere\n', /repositories.*nowhere/],
  ];
  it.each(cases)('%s', async (_name, text, pattern) => {
    const err = await load(text).catch((e) => e);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(err.message).toMatch(pattern);
  });

  it('a bad value from the command line names its origin', async () => {
    const err = await load('', { overrides: { lock_timeout: 'forever' } }).catch((e) => e);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('command line (lock_timeout)') });
  });
});
