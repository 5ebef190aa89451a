// Issue 8 §1: who may sign the index statement (X2, docs/index-statement.md), driven
// through the real binary against a real nginx over HTTPS. Each attack is refused with
// a stable code and the previously accepted index and DB state stay exactly as they were.
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { fingerprintSha256 } from '../../src/crypto/index.js';
import { readPackagesZip, writePackagesZipBytes } from '../../src/repo/index-file/packages-zip.js';
import { cleanupPki } from '../helpers/pki.js';
import { buildSpec, copyDir, DAY, dbdirOf, readRepoRow, signedScan, startSite, type Site } from '../agent/update-repo-fixture.js';

let site: Site;
let base: string;

beforeAll(async () => {
  site = await startSite(await mkdtemp(join(tmpdir(), 'wapt-index-signer-')));
  base = join(site.dir, 'base');
  const work = join(site.dir, 'work');
  await buildSpec(site.pki, work, base, { name: 'tis-app', version: '1.0-1' });
  await buildSpec(site.pki, work, base, { name: 'tis-secfix', version: '2.0-1' });
  await buildSpec(site.pki, work, base, { name: 'tis-other', version: '1.0-1' });
}, 120_000);

afterAll(async () => {
  await site?.nginx.stop();
  if (site) {
    cleanupPki(site.pki);
    await rm(site.dir, { recursive: true, force: true });
  }
});

/** A served repository directory `www/<name>`, scanned and signed by the genuine code-signer. */
async function servedRepo(name: string): Promise<{ dir: string; version: number }> {
  const dir = join(site.www, name);
  await copyDir(base, dir);
  const res = await signedScan(site.pki, dir);
  return { dir, version: res.statementVersion! };
}

interface Forge {
  key: KeyObject;
  cert: X509Certificate;
  previousVersion: number | null;
  now?: Date;
  repository: string;
  /** Edits the Packages text (e.g. drops an entry). */
  edit?: (text: string) => string;
}

/** Rewrites `dir/Packages` from the genuine one with a statement made by `f` (a real, validly signed statement). */
async function forgeIndex(dir: string, f: Forge): Promise<number> {
  const idx = await readPackagesZip(join(dir, 'Packages'));
  const text = idx.packagesBytes.toString('utf8');
  const packagesBytes = Buffer.from(f.edit ? f.edit(text) : text, 'utf8');
  const res = await writePackagesZipBytes(join(dir, 'Packages'), {
    packagesBytes,
    certificates: [...idx.certificates.values()],
    now: f.now,
    statement: { key: f.key, cert: f.cert, expiresInMs: 7 * DAY, previousVersion: f.previousVersion, repository: f.repository },
  });
  return res.statement!.version;
}

const dropSecfix = (text: string) =>
  text
    .split('\n\n')
    .filter((b) => !/^package\s*:\s*tis-secfix$/m.test(b))
    .join('\n\n')
    .replace(/\n*$/, '\n');

/** The client's DB file, byte for byte. */
const dbBytes = (client: string) => readFile(join(dbdirOf(site, client), 'waptdb.sqlite'));

describe('issue 8 §1: a deployer key may not sign the index statement', () => {
  test('deployer-signed statement with version 2^53-1 → SIGNER_NOT_ALLOWED, DB byte-for-byte unchanged; the genuine later index is still accepted', async () => {
    const { dir } = await servedRepo('freeze');
    const cfg = await site.config('freeze', 'freeze');
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    const before = await dbBytes('freeze');
    await copyFile(join(dir, 'Packages'), join(site.dir, 'freeze-genuine.zip'));
    const forged = await forgeIndex(dir, {
      key: site.pki.deployer.privateKey,
      cert: site.pki.deployer.cert,
      previousVersion: Number.MAX_SAFE_INTEGER - 1,
      repository: 'freeze',
    });
    expect(forged).toBe(Number.MAX_SAFE_INTEGER);
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.data.repos[0].error.code).toBe('SIGNER_NOT_ALLOWED');
    expect((await dbBytes('freeze')).equals(before)).toBe(true);
    // The publisher's next genuine index (the mirror served the forged one) is not frozen out.
    await copyFile(join(site.dir, 'freeze-genuine.zip'), join(dir, 'Packages'));
    const genuine = await signedScan(site.pki, dir);
    const ok = await site.json(cfg, ['update']);
    expect(ok.code).toBe(0);
    expect(ok.data.repos[0]).toMatchObject({ status: 'updated', index_version: genuine.statementVersion });
  });

  test('deployer-signed censored index (the security fix dropped) → SIGNER_NOT_ALLOWED, the fix stays offered', async () => {
    const { dir, version } = await servedRepo('censor');
    const cfg = await site.config('censor', 'censor');
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    const before = await readRepoRow(dbdirOf(site, 'censor'), 'global');
    await forgeIndex(dir, {
      key: site.pki.deployer.privateKey,
      cert: site.pki.deployer.cert,
      previousVersion: version,
      repository: 'censor',
      edit: dropSecfix,
    });
    expect((await readPackagesZip(join(dir, 'Packages'))).entries.map((e) => e.get('package'))).not.toContain('tis-secfix');
    const r = await site.cli(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('[SIGNER_NOT_ALLOWED]');
    const after = await readRepoRow(dbdirOf(site, 'censor'), 'global');
    expect(after.row).toEqual(before.row);
    const s = await site.json(cfg, ['search', 'tis-secfix']);
    expect(s.data.results).toHaveLength(1);
  });
});

describe('issue 8 §1: the statement names its repository', () => {
  test('DEV index served in place of PROD → INDEX_WRONG_REPOSITORY; PROD still accepted afterwards', async () => {
    const prod = await servedRepo('prod');
    const dev = await servedRepo('dev');
    const cfg = await site.config('prod-client', 'prod');
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    const before = await dbBytes('prod-client');
    await copyFile(join(prod.dir, 'Packages'), join(site.dir, 'prod-genuine.zip'));
    await signedScan(site.pki, dev.dir); // a newer DEV index, validly signed by the same code-signer
    await copyFile(join(dev.dir, 'Packages'), join(prod.dir, 'Packages'));
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.data.repos[0].error).toMatchObject({ code: 'INDEX_WRONG_REPOSITORY', detail: { offered: 'dev', expected: 'prod' } });
    expect((await dbBytes('prod-client')).equals(before)).toBe(true);
    // Genuine PROD again (same version as accepted, then a newer one): not refused as rollback.
    await copyFile(join(site.dir, 'prod-genuine.zip'), join(prod.dir, 'Packages'));
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    await signedScan(site.pki, prod.dir);
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
  });

  test('repository_id set in the ini: a DEV index is refused even on first contact', async () => {
    await servedRepo('dev-first');
    const cfg = await site.config('pinned-id', 'dev-first', { repository_id: 'prod' });
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.data.repos[0].error.code).toBe('INDEX_WRONG_REPOSITORY');
    expect((await readRepoRow(dbdirOf(site, 'pinned-id'), 'global')).row).toBeUndefined();
  });
});

describe('issue 8 §1: versions are not free numbers', () => {
  test('version more than one day ahead of the statement’s created time → INDEX_VERSION_AHEAD', async () => {
    const { dir } = await servedRepo('ahead');
    const now = new Date();
    const forged = await forgeIndex(dir, {
      key: site.pki.codesigner.privateKey,
      cert: site.pki.codesigner.cert,
      previousVersion: Math.floor(now.getTime() / 1000) + 2 * 86_400,
      now,
      repository: 'ahead',
    });
    expect(forged).toBeGreaterThan(Math.floor(now.getTime() / 1000) + 86_400);
    const cfg = await site.config('ahead', 'ahead');
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.data.repos[0].error.code).toBe('INDEX_VERSION_AHEAD');
    expect((await readRepoRow(dbdirOf(site, 'ahead'), 'global')).row).toBeUndefined();
  });

  test('equal version with a different packages digest → INDEX_VERSION_REUSED (TUF 5.4.3.1), DB unchanged', async () => {
    const { dir, version } = await servedRepo('equal');
    const cfg = await site.config('equal', 'equal');
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    const before = await dbBytes('equal');
    // The genuine key, the same version (signed "at" that second), another package set.
    const forged = await forgeIndex(dir, {
      key: site.pki.codesigner.privateKey,
      cert: site.pki.codesigner.cert,
      previousVersion: version - 1,
      now: new Date(version * 1000),
      repository: 'equal',
      edit: dropSecfix,
    });
    expect(forged).toBe(version);
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.data.repos[0].error.code).toBe('INDEX_VERSION_REUSED');
    expect((await dbBytes('equal')).equals(before)).toBe(true);
  });
});

describe('issue 8 §1: rollback state follows the repository identity', () => {
  test('an older bundle imported under a new --as name → INDEX_ROLLBACK', async () => {
    const { dir } = await servedRepo('bundled');
    const online = await site.config('bundler', 'bundled');
    const older = join(site.dir, 'bundled-old.tar');
    expect((await site.cli(online, ['bundle', '-o', older, 'tis-app'])).code).toBe(0);
    await signedScan(site.pki, dir);
    const newer = join(site.dir, 'bundled-new.tar');
    expect((await site.cli(online, ['bundle', '-o', newer, 'tis-app'])).code).toBe(0);
    const offline = await site.config('offline-as', null);
    expect((await site.cli(offline, ['update', '--from-bundle', newer, '--as', 'site-a'])).code).toBe(0);
    const r = await site.cli(offline, ['update', '--from-bundle', older, '--as', 'site-b']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('[INDEX_ROLLBACK]');
    expect((await readRepoRow(dbdirOf(site, 'offline-as'), 'site-b')).row).toBeUndefined();
  });
});

describe('issue 8 §1: index_signer pins the repository’s signer (apt Signed-By)', () => {
  test('pinned to one code-signer: an index signed by another valid code-signing certificate → SIGNER_NOT_ALLOWED', async () => {
    const { dir, version } = await servedRepo('pinned');
    const pin = fingerprintSha256(site.pki.codesigner.cert);
    const cfg = await site.config('pinned', 'pinned', { index_signer: pin });
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    const before = await dbBytes('pinned');
    await forgeIndex(dir, { key: site.pki.codesigner2.privateKey, cert: site.pki.codesigner2.cert, previousVersion: version, repository: 'pinned' });
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.data.repos[0].error.code).toBe('SIGNER_NOT_ALLOWED');
    expect(r.data.repos[0].error.message).toContain('index_signer');
    expect((await dbBytes('pinned')).equals(before)).toBe(true);
  });

  test('rotation: two pins (a fingerprint and a certificate path) accept the old and the new key', async () => {
    const { dir, version } = await servedRepo('rotate');
    const pins = `${fingerprintSha256(site.pki.codesigner.cert)}, ${site.pki.codesigner2.certPath}`;
    const cfg = await site.config('rotate', 'rotate', { index_signer: pins });
    const first = await site.cli(cfg, ['update']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const v2 = await forgeIndex(dir, { key: site.pki.codesigner2.privateKey, cert: site.pki.codesigner2.cert, previousVersion: version, repository: 'rotate' });
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(0);
    expect(r.data.repos[0]).toMatchObject({ status: 'updated', index_version: v2 });
  });
});
