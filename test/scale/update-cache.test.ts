// Issue 12 §2: the entry verification cache (src/agent/update/verify-cache.ts), driven
// through the real CLI against a real nginx over real HTTPS with real signed packages.
// Only the RSA check of identical bytes by an identical signer under an identical
// trust store is ever skipped; every other case below must verify again.
import { copyFile, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintSha256 } from '../../src/crypto/index.js';
import { cleanupPki } from '../helpers/pki.js';
import { buildSpec, copyDir, dbdirOf, rezipPackages, signedScan, startSite, type Site } from '../agent/update-repo-fixture.js';
import { STATEMENT_MEMBER, STATEMENT_SIGNATURE_MEMBER } from '../../src/repo/statement/create.js';

let site: Site;
let base: string;

beforeAll(async () => {
  site = await startSite(await mkdtemp(join(tmpdir(), 'wapt-update-cache-')));
  base = join(site.dir, 'base');
  const work = join(site.dir, 'work');
  await buildSpec(site.pki, work, base, { name: 'tis-lib', version: '1.0-1' });
  await buildSpec(site.pki, work, base, { name: 'tis-app', version: '1.0-1', fields: { depends: 'tis-lib' } });
  await buildSpec(site.pki, work, base, { name: 'tis-app', version: '2.0-1' });
  await buildSpec(site.pki, work, base, { name: 'tis-tool', version: '3.0-1' });
  await buildSpec(site.pki, work, base, { name: 'tis-untrusted', version: '1.0-1', signer: site.pki.otherSigner });
});

afterAll(async () => {
  await site?.nginx.stop();
  if (site) {
    cleanupPki(site.pki);
    await rm(site.dir, { recursive: true, force: true });
  }
});

async function servedRepo(name: string): Promise<string> {
  const dir = join(site.www, name);
  await copyDir(base, dir);
  await signedScan(site.pki, dir);
  return dir;
}

/** Same bytes, new mtime: nginx answers the conditional GET with a new ETag and a 200. */
async function reServe(dir: string): Promise<void> {
  const t = new Date(Date.now() + 5_000 + Math.floor(Math.random() * 100_000));
  await utimes(join(dir, 'Packages'), t, t);
}

const cacheFile = (client: string) => join(dbdirOf(site, client), 'verify-cache.global.json');

async function update(cfg: string) {
  const r = await site.json(cfg, ['update']);
  expect(r.code).toBe(0);
  return { repo: r.data.repos[0], stderr: r.stderr };
}

describe('issue 12 §2 entry verification cache', () => {
  test('unchanged index re-served with a new ETag: the second update does no RSA check of the 4 known entries, and the cache is private (0600)', async () => {
    const dir = await servedRepo('same');
    const cfg = await site.config('same', 'same');
    const first = await update(cfg);
    expect(first.repo).toMatchObject({ status: 'updated', packages: 4, rejected: 1, verified_entries: 4, cached_entries: 0 });
    const st = await lstat(cacheFile('same'));
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);

    await reServe(dir);
    const second = await update(cfg);
    expect(second.repo).toMatchObject({ status: 'updated', packages: 4, rejected: 1, verified_entries: 0, cached_entries: 4 });
    // the untrusted signer is still judged (its chain is never cached)
    expect(second.repo.rejected_entries).toEqual([expect.objectContaining({ package: 'tis-untrusted', code: 'SIGNER_UNTRUSTED' })]);
  });

  test('a cache entry tampered in the file no longer matches the bytes: that entry is verified again, the others still come from the cache', async () => {
    const dir = await servedRepo('tamper-cache');
    const cfg = await site.config('tamper-cache', 'tamper-cache');
    await update(cfg);
    const body = JSON.parse(await readFile(cacheFile('tamper-cache'), 'utf8'));
    expect(body.keys).toHaveLength(4);
    const k: string = body.keys[0];
    body.keys[0] = (k[0] === '0' ? '1' : '0') + k.slice(1);
    await writeFile(cacheFile('tamper-cache'), JSON.stringify(body), { mode: 0o600 });

    await reServe(dir);
    const r = await update(cfg);
    expect(r.repo).toMatchObject({ status: 'updated', packages: 4, verified_entries: 1, cached_entries: 3 });
    // the rebuilt cache holds the genuine key again, not the tampered one
    const after = JSON.parse(await readFile(cacheFile('tamper-cache'), 'utf8'));
    expect(after.keys).not.toContain(body.keys[0]);
    expect(after.keys).toContain(k);
  });

  test('an index entry tampered after its verdict was cached is rejected (CONTROL_SIGNATURE_INVALID), not answered from the cache', async () => {
    const dir = await servedRepo('tamper-entry');
    const signedZip = join(site.dir, 'tamper-entry.Packages');
    await copyFile(join(dir, 'Packages'), signedZip);
    const unsigned = (n: string) => n === STATEMENT_MEMBER || n === STATEMENT_SIGNATURE_MEMBER;
    // unsigned index (allowed by policy) so the entry itself is the only thing that can catch the change
    await rezipPackages(signedZip, join(dir, 'Packages'), (t) => t, unsigned);
    const cfg = await site.config('tamper-entry', 'tamper-entry', { allow_unsigned_index: '1' });
    const first = await update(cfg);
    expect(first.repo).toMatchObject({ status: 'updated', packages: 4, signed: false, verified_entries: 4 });

    await rezipPackages(signedZip, join(dir, 'Packages'), (t) => t.replace(/^(version\s*:\s*)3\.0-1$/im, '$13.0-9'), unsigned);
    await reServe(dir);
    const r = await update(cfg);
    expect(r.repo).toMatchObject({ status: 'updated', packages: 3, rejected: 2, verified_entries: 0, cached_entries: 3 });
    expect(r.repo.rejected_entries).toEqual(
      expect.arrayContaining([expect.objectContaining({ package: 'tis-tool', version: '3.0-9', code: 'CONTROL_SIGNATURE_INVALID' })]),
    );
  });

  test('a corrupted cache file is ignored with a warning and rebuilt', async () => {
    const dir = await servedRepo('corrupt');
    const cfg = await site.config('corrupt', 'corrupt');
    await update(cfg);
    await writeFile(cacheFile('corrupt'), '{"format":"wapt-get verify-cache 1","trust":', { mode: 0o600 });
    await reServe(dir);
    const r = await update(cfg);
    expect(r.repo).toMatchObject({ status: 'updated', packages: 4, verified_entries: 4, cached_entries: 0 });
    expect(r.stderr).toMatch(/verify-cache\.global\.json is corrupted/);
    expect(JSON.parse(await readFile(cacheFile('corrupt'), 'utf8')).keys).toHaveLength(4);
    await reServe(dir);
    expect((await update(cfg)).repo).toMatchObject({ verified_entries: 0, cached_entries: 4 });
  });

  test('a cache made under another trust store is ignored: every entry is verified again under the new one', async () => {
    const dir = await servedRepo('other-trust');
    const trusted = join(site.dir, 'trusted-other');
    await copyDir(site.pki.trustedDir, trusted);
    const cfg = await site.config('other-trust', 'other-trust');
    await update(cfg);
    await copyFile(site.pki.otherSigner.certPath, join(trusted, 'other.crt'));
    const cfg2 = await site.config('other-trust', 'other-trust', { trusted_certs_dir: trusted });
    await reServe(dir);
    const r = await update(cfg2);
    // the other signer is now an anchor: 5 accepted, none of them from the cache
    expect(r.repo).toMatchObject({ status: 'updated', packages: 5, rejected: 0, verified_entries: 5, cached_entries: 0 });
  });

  test('a cache made under other index_signer pins is ignored', async () => {
    const dir = await servedRepo('other-pins');
    const cfg = await site.config('other-pins', 'other-pins');
    await update(cfg);
    const pinned = await site.config('other-pins', 'other-pins', { index_signer: fingerprintSha256(site.pki.codesigner.cert) });
    await reServe(dir);
    const r = await update(pinned);
    expect(r.repo).toMatchObject({ status: 'updated', packages: 4, verified_entries: 4, cached_entries: 0 });
  });

  test('a cache file that is a symlink is never followed: ignored with a warning, replaced by a private file, its target untouched', async () => {
    const dir = await servedRepo('link');
    const cfg = await site.config('link', 'link');
    await mkdir(dbdirOf(site, 'link'), { recursive: true, mode: 0o700 });
    const target = join(site.dir, 'link-target.json');
    await writeFile(target, 'precious');
    await symlink(target, cacheFile('link'));
    const r = await update(cfg);
    expect(r.repo).toMatchObject({ status: 'updated', packages: 4, verified_entries: 4 });
    expect(r.stderr).toMatch(/verify-cache\.global\.json cannot be read safely \(ELOOP\)/);
    expect(await readFile(target, 'utf8')).toBe('precious');
    const st = await lstat(cacheFile('link'));
    expect(st.isSymbolicLink()).toBe(false);
    expect((await stat(cacheFile('link'))).mode & 0o777).toBe(0o600);
    await reServe(dir);
  });
});
