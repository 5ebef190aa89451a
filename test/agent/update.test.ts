// `wapt-get update` end to end: the real CLI against a real nginx over real HTTPS,
// with real signed packages and a real X2-signed index (W-F3, W-F4, X2).
import { copyFile, mkdtemp, readdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupPki } from '../helpers/pki.js';
import { buildSpec, copyDir, DAY, dbdirOf, readRepoRow, rezipPackages, signedScan, startSite, type Site } from './update-repo-fixture.js';
import { scanPackages } from '../../src/repo/scan/scan.js';
import { readPackagesZip } from '../../src/repo/index-file/packages-zip.js';
import { TrustStore } from '../../src/crypto/index.js';
import { verifyIndex } from '../../src/agent/update/index.js';
import { hostEnvironment, hostOs } from '../../src/agent/environment.js';
import { loadConfig } from '../../src/agent/config.js';

let site: Site;
let base: string;

const CONF = join(process.cwd(), 'fixtures/conformance/wapt-made');

beforeAll(async () => {
  site = await startSite(await mkdtemp(join(tmpdir(), 'wapt-update-')));
  const { pki } = site;
  base = join(site.dir, 'base');
  const work = join(site.dir, 'work');
  await buildSpec(pki, work, base, { name: 'tis-lib', version: '1.0-1' });
  await buildSpec(pki, work, base, { name: 'tis-app', version: '1.0-1', fields: { depends: 'tis-lib' } });
  await buildSpec(pki, work, base, { name: 'tis-app', version: '2.0-1', fields: { depends: 'tis-lib(>=1.0)' } });
  await buildSpec(pki, work, base, { name: 'tis-dev', version: '3.0-1', fields: { maturity: 'DEV' } });
  await buildSpec(pki, work, base, { name: 'tis-untrusted', version: '1.0-1', signer: pki.otherSigner });
});

afterAll(async () => {
  await site?.nginx.stop();
  if (site) {
    cleanupPki(site.pki);
    await rm(site.dir, { recursive: true, force: true });
  }
});

/** A served copy of the base packages under www/<name>, indexed with a signed statement. */
async function servedRepo(name: string): Promise<string> {
  const dir = join(site.www, name);
  await copyDir(base, dir);
  await signedScan(site.pki, dir);
  return dir;
}

describe('W-F3/X2 update over HTTPS', () => {
  test('update OK: summary counts per repository; an entry whose signer is untrusted is rejected and counted', async () => {
    await servedRepo('ok');
    const cfg = await site.config('ok', 'ok');
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(0);
    const [repo] = r.data.repos;
    expect(repo).toMatchObject({ repo: 'global', status: 'updated', packages: 4, rejected: 1, signed: true });
    expect(repo.rejected_entries).toEqual([expect.objectContaining({ package: 'tis-untrusted', code: 'SIGNER_UNTRUSTED' })]);
    expect(r.data).toMatchObject({ packages: 4, upgradable: 0, rejected: 1, failed: 0 });
    const { row, all } = await readRepoRow(dbdirOf(site, 'ok'), 'global');
    expect(row).toMatchObject({ packages_count: 4, rejected_count: 1, index_signed: true });
    expect(row!.index_version).toBeGreaterThan(0);
    expect(all.map((a) => `${a.package} ${a.version}`).sort()).toEqual(['tis-app 1.0-1', 'tis-app 2.0-1', 'tis-dev 3.0-1', 'tis-lib 1.0-1']);
    expect(all.every((a) => a.sha256 && a.md5sum && a.size)).toBe(true);

    const human = await site.cli(cfg, ['update']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/4 packages, 1 rejected \(signed index v\d+/);
    expect(human.stdout).toMatch(/4 packages available, 0 upgradable, 1 rejected/);
  });

  test('second update downloads no index body: conditional GET answered 304, DB row unchanged', async () => {
    await servedRepo('cond');
    const cfg = await site.config('cond', 'cond');
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    const before = await readRepoRow(dbdirOf(site, 'cond'), 'global');
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(0);
    expect(r.data.repos[0]).toMatchObject({ status: 'not-modified', packages: 4, rejected: 1 });
    const log = (await site.nginx.readAccessLog()).filter((l) => l.startsWith('GET /cond/Packages '));
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(/ 200 /);
    expect(log[1]).toMatch(/ 304 .*bytes=0$/);
    const after = await readRepoRow(dbdirOf(site, 'cond'), 'global');
    expect(after.row).toEqual(before.row);
  });

  test('an entry whose control was edited (version changed, index re-zipped with its ssl/ members) is rejected, the others accepted', async () => {
    const dir = join(site.www, 'edited');
    await copyDir(base, dir);
    await scanPackages(dir); // unsigned index: only the entry check can catch the edit
    await rezipPackages(join(dir, 'Packages'), join(dir, 'Packages.new'), (t) => t.replace(/^version(\s*): 1\.0-1$/m, 'version$1: 1.0-9'));
    await rename(join(dir, 'Packages.new'), join(dir, 'Packages'));
    const cfg = await site.config('edited', 'edited');
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(0);
    const repo = r.data.repos[0];
    expect(repo).toMatchObject({ packages: 3, rejected: 2, signed: false });
    const codes = repo.rejected_entries.map((e: any) => `${e.version} ${e.code}`).sort();
    expect(codes).toEqual(['1.0-1 SIGNER_UNTRUSTED', '1.0-9 CONTROL_SIGNATURE_INVALID']);
    const { all } = await readRepoRow(dbdirOf(site, 'edited'), 'global');
    expect(all.some((a) => a.version === '1.0-9')).toBe(false);
  });

  test('rollback: an older signed index after a newer one → INDEX_ROLLBACK, the DB keeps the newer one', async () => {
    const dir = await servedRepo('rollback');
    await copyFile(join(dir, 'Packages'), join(site.dir, 'rollback-old.zip'));
    for (const f of await readdir(dir)) if (f.startsWith('tis-dev')) await rm(join(dir, f));
    const newer = await signedScan(site.pki, dir);
    const cfg = await site.config('rollback', 'rollback');
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    await copyFile(join(site.dir, 'rollback-old.zip'), join(dir, 'Packages'));
    const r = await site.cli(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('[INDEX_ROLLBACK]');
    const { row, count } = await readRepoRow(dbdirOf(site, 'rollback'), 'global');
    expect(row!.index_version).toBe(newer.statementVersion);
    expect(count).toBe(3);
  });

  test('expired index → INDEX_EXPIRED naming the expiry date', async () => {
    const dir = join(site.www, 'expired');
    await copyDir(base, dir);
    const res = await signedScan(site.pki, dir, { now: new Date(Date.now() - 2 * DAY), expiresInMs: DAY });
    expect(res.statementVersion).not.toBeNull();
    const cfg = await site.config('expired', 'expired');
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.data.error.code).toBe('INDEX_EXPIRED');
    expect(r.data.error.message).toMatch(/expired on \d{4}-\d\d-\d\dT/);
    expect((await readRepoRow(dbdirOf(site, 'expired'), 'global')).row).toBeUndefined();
  });

  test('Packages member not matching the statement → INDEX_DIGEST_MISMATCH, nothing stored', async () => {
    const dir = await servedRepo('digest');
    await rezipPackages(join(dir, 'Packages'), join(dir, 'Packages.new'), (t) => t + '\n');
    await rename(join(dir, 'Packages.new'), join(dir, 'Packages'));
    const cfg = await site.config('digest', 'digest');
    const r = await site.cli(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('[INDEX_DIGEST_MISMATCH]');
    expect((await readRepoRow(dbdirOf(site, 'digest'), 'global')).count).toBe(0);
  });

  test('unsigned WAPT-made index: accepted on a fresh repository, refused (INDEX_UNSIGNED) after a signed one was seen', async () => {
    const dir = join(site.www, 'waptmade');
    await copyDir(join(CONF, 'repo'), dir);
    const extra = { trusted_certs_dir: join(CONF, 'trusted'), maturities: '' };
    const fresh = await site.config('waptmade-fresh', 'waptmade', extra);
    const r1 = await site.json(fresh, ['update']);
    expect(r1.code).toBe(0);
    expect(r1.data.repos[0]).toMatchObject({ packages: 4, rejected: 0, signed: false });

    const { createPrivateKey, X509Certificate } = await import('node:crypto');
    const key = createPrivateKey(await readFile(join(CONF, 'keys/codesigner.pem')));
    const cert = new X509Certificate(await readFile(join(CONF, 'keys/codesigner.crt')));
    await copyFile(join(dir, 'Packages'), join(site.dir, 'waptmade-unsigned.zip'));
    await scanPackages(dir, { sign: { key, cert, expiresInMs: DAY } });
    const seen = await site.config('waptmade-seen', 'waptmade', extra);
    expect((await site.json(seen, ['update'])).data.repos[0]).toMatchObject({ signed: true, packages: 4 });
    await copyFile(join(site.dir, 'waptmade-unsigned.zip'), join(dir, 'Packages'));
    const r2 = await site.cli(seen, ['update']);
    expect(r2.code).toBe(3);
    expect(r2.stderr).toContain('[INDEX_UNSIGNED]');
    expect((await readRepoRow(dbdirOf(site, 'waptmade-seen'), 'global')).row!.index_signed).toBe(true);
    // allow_unsigned_index=1 is the explicit way back.
    const allowed = await site.config('waptmade-seen', 'waptmade', { ...extra, allow_unsigned_index: '1' });
    expect((await site.cli(allowed, ['update'])).code).toBe(0);
  });

  test('404 → HTTP_STATUS with a clear message, the previous index stays usable', async () => {
    const dir = await servedRepo('gone');
    const cfg = await site.config('gone', 'gone');
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    await rm(join(dir, 'Packages'));
    const r = await site.cli(cfg, ['update']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/\[HTTP_STATUS\] repository global: HTTP 404 for https:\/\/127\.0\.0\.1:\d+\/gone\/Packages/);
    expect(r.stdout).toContain('previous index kept: 4 packages');
    const s = await site.json(cfg, ['search', 'tis-app']);
    expect(s.data.results).toHaveLength(2);
  });

  test('500 → retried, then HTTP_STATUS; the previous index stays usable', async () => {
    const dir = await servedRepo('flaky');
    const cfg = await site.config('flaky', 'flaky');
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    await writeFile(join(dir, 'FAIL'), '');
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(4);
    expect(r.data.error).toMatchObject({ code: 'HTTP_STATUS', detail: { status: 500, attempts: 4 } });
    const hits = (await site.nginx.readAccessLog()).filter((l) => l.startsWith('GET /flaky/Packages 500'));
    // the warm path's one conditional probe (fast-304.ts, never retried), then 4 attempts
    expect(hits).toHaveLength(5);
    expect((await readRepoRow(dbdirOf(site, 'flaky'), 'global')).count).toBe(4);
  });

  test('truncated index zip → INDEX_INVALID, the old index kept', async () => {
    const dir = await servedRepo('trunc');
    const cfg = await site.config('trunc', 'trunc');
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    await signedScan(site.pki, dir); // a newer index, then cut in half
    const size = (await readFile(join(dir, 'Packages'))).length;
    await truncate(join(dir, 'Packages'), Math.floor(size / 2));
    const r = await site.cli(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('[INDEX_INVALID]');
    expect((await readRepoRow(dbdirOf(site, 'trunc'), 'global')).count).toBe(4);
  });

  test('corrupt DB: update moves it aside (kept, not overwritten), fetches the index again and exits 8 (DB_CORRUPT: what was lost is said); list fails with DB_CORRUPT', async () => {
    await servedRepo('corrupt');
    const cfg = await site.config('corrupt', 'corrupt');
    const db = join(dbdirOf(site, 'corrupt'), 'waptdb.sqlite');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dbdirOf(site, 'corrupt'), { recursive: true });
    const garbage = Buffer.from('this is not an SQLite database '.repeat(20));
    await writeFile(db, garbage);
    const r = await site.cli(cfg, ['update']);
    expect(r.code).toBe(8); // issue 9 case 7: never exit 0 over lost state
    expect(r.stderr).toMatch(/WARNING: local DB .* was corrupt .* moved to .*corrupt/);
    expect(r.stderr).toContain('[DB_CORRUPT]');
    const aside = (await readdir(dbdirOf(site, 'corrupt'))).filter((f) => f.includes('corrupt'));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(dbdirOf(site, 'corrupt'), aside[0]!))).toEqual(garbage);
    expect((await readRepoRow(dbdirOf(site, 'corrupt'), 'global')).count).toBe(4);

    await writeFile(db, garbage);
    const l = await site.cli(cfg, ['list']);
    expect(l.code).toBe(8);
    expect(l.stderr).toContain('[DB_CORRUPT]');
  });
});

describe('W-F4 host package', () => {
  const UUID = '0A1B2C3D-1111-2222-3333-444455556666';

  test('fetched as <host repo>/<uuid>.wapt, verified, recorded in wapt-host; 304 next time; 404 = none', async () => {
    await servedRepo('hosted');
    const hostDir = join(site.www, 'hosted-host');
    const built = await buildSpec(site.pki, join(site.dir, 'work'), join(site.dir, 'hostbuild'), {
      name: UUID,
      version: '5-1',
      fields: { section: 'host', depends: 'tis-app' },
    });
    await copyDir(join(site.dir, 'hostbuild'), hostDir);
    await rename(join(hostDir, built.slice(built.lastIndexOf('/') + 1)), join(hostDir, `${UUID}.wapt`));
    const cfg = await site.config('hosted', 'hosted', { use_hostpackages: '1', host_uuid: UUID });
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(0);
    expect(r.data.repos.map((x: any) => `${x.repo} ${x.status} ${x.packages}`)).toEqual(['global updated 4', 'wapt-host updated 1']);
    const host = await readRepoRow(dbdirOf(site, 'hosted'), 'wapt-host');
    expect(host.all.filter((a) => a.repo === 'wapt-host')).toEqual([
      expect.objectContaining({ package: UUID, version: '5-1', section: 'host', depends: 'tis-app', filename: `${UUID}.wapt` }),
    ]);
    const again = await site.json(cfg, ['update']);
    expect(again.data.repos[1]).toMatchObject({ repo: 'wapt-host', status: 'not-modified', packages: 1 });

    await rm(join(hostDir, `${UUID}.wapt`));
    const gone = await site.json(cfg, ['update']);
    expect(gone.code).toBe(0);
    expect(gone.data.repos[1]).toMatchObject({ repo: 'wapt-host', status: 'updated', packages: 0 });
    expect((await readRepoRow(dbdirOf(site, 'hosted'), 'wapt-host')).count).toBe(0);
  });
});

describe('update core, called directly', () => {
  test('W-F3: an entry whose (unsigned) filename points outside the repository is rejected as INDEX_INVALID', async () => {
    const dir = await servedRepo('direct');
    await rezipPackages(
      join(dir, 'Packages'),
      join(site.dir, 'evil-Packages'),
      (t) => t.replace(/^filename(\s*): tis-lib_1\.0-1_PROD\.wapt$/m, 'filename$1: ../../etc/tis-lib.wapt'),
      // the statement would catch the edit first: leave it out to reach the entry check
      (name) => name.startsWith('wapt-get/'),
    );
    const index = await readPackagesZip(join(site.dir, 'evil-Packages'));
    const trust = await TrustStore.load(site.pki.trustedDir);
    const v = verifyIndex(index, { trust, previous: undefined, allowUnsigned: false });
    expect(v.statement).toBeNull();
    expect(v.accepted.map((a) => a.package).sort()).toEqual(['tis-app', 'tis-app', 'tis-dev']);
    expect(v.rejected.map((r) => `${r.package} ${r.code}`).sort()).toEqual(['tis-lib INDEX_INVALID', 'tis-untrusted SIGNER_UNTRUSTED']);
  });

  test('the resolver environment comes from the config: arch, maturities, locales, mapped OS, WAPT 2.x compatibility', async () => {
    const cfg = await loadConfig({ path: await site.config('envtest', null, { locales: 'fr,en' }), env: {} });
    const now = new Date('2030-01-01T00:00:00Z');
    const env = hostEnvironment(cfg, { now });
    expect(env).toMatchObject({ architecture: 'x64', maturities: ['PROD', ''], locales: ['fr', 'en'], waptVersion: '2.3', now });
    expect(env.osVersion).not.toBe('');
    expect([hostOs('win32'), hostOs('darwin'), hostOs('linux'), hostOs('freebsd')]).toEqual(['windows', 'darwin', 'linux', 'linux']);
  });
});
