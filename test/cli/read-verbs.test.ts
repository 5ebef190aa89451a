// The read verbs and `download` through the real CLI, over a real HTTPS repository
// (nginx) holding real signed packages: search, show, list, list-upgrade, download.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { openDb } from '../../src/agent/db/index.js';
import { HttpClient, parseVerifyCert } from '../../src/repo/http/index.js';
import { cleanupPki } from '../helpers/pki.js';
import { buildSpec, copyDir, dbdirOf, rewriteZip, signedScan, startSite, type Site } from '../agent/update-repo-fixture.js';

let site: Site;
let base: string;
let cfg: string;
let bigFile: string;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  site = await startSite(await mkdtemp(join(tmpdir(), 'wapt-readverbs-')));
  const { pki } = site;
  base = join(site.dir, 'base');
  const work = join(site.dir, 'work');
  await buildSpec(pki, work, base, { name: 'tis-lib', version: '1.0-1' });
  await buildSpec(pki, work, base, { name: 'tis-app', version: '1.0-1', fields: { depends: 'tis-lib' } });
  await buildSpec(pki, work, base, { name: 'tis-app', version: '2.0-1', fields: { depends: 'tis-lib(>=1.0)' } });
  await buildSpec(pki, work, base, { name: 'tis-other', version: '1.0-1', fields: { description: 'the quick brown fox utility' } });
  await buildSpec(pki, work, base, { name: 'tis-dev', version: '3.0-1', fields: { maturity: 'DEV' } });
  // Random payload: stored, not deflated, so the file is big enough to resume in the middle.
  bigFile = await buildSpec(pki, work, base, { name: 'tis-big', version: '1.0-1', files: { 'data/blob.b64': randomBytes(1_500_000).toString('base64') } });
  const repo = join(site.www, 'main');
  await copyDir(base, repo);
  await signedScan(pki, repo);
  cfg = await site.config('reader', 'main');
  expect((await site.cli(cfg, ['update'])).code).toBe(0);
  // `install` is another verb's job: record two installed packages straight in the DB.
  const db = await openDb(join(dbdirOf(site, 'reader'), 'waptdb.sqlite'));
  db.installed.upsert({ package: 'tis-app', version: '1.0-1', install_status: 'OK', explicit_by: 'admin' });
  db.installed.upsert({ package: 'tis-lib', version: '1.0-1', install_status: 'OK', explicit_by: null, depends_by: 'tis-app' });
  await db.persist();
  db.close();
});

afterAll(async () => {
  await site?.nginx.stop();
  if (site) {
    cleanupPki(site.pki);
    await rm(site.dir, { recursive: true, force: true });
  }
});

describe('search', () => {
  test('matches name and description, human and --json, with eligibility per entry', async () => {
    const h = await site.cli(cfg, ['search', 'brown fox']);
    expect(h.code).toBe(0);
    expect(h.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^tis-other\s+1\.0-1\s+global\s+the quick brown fox utility$/)]);
    const j = await site.json(cfg, ['search', 'tis-']);
    expect(j.data.results.map((r: any) => `${r.package} ${r.version}`)).toEqual([
      'tis-app 1.0-1',
      'tis-app 2.0-1',
      'tis-big 1.0-1',
      'tis-dev 3.0-1',
      'tis-lib 1.0-1',
      'tis-other 1.0-1',
    ]);
    const dev = j.data.results.find((r: any) => r.package === 'tis-dev');
    expect(dev).toMatchObject({ eligible: false, reason: expect.stringContaining('maturity DEV not accepted') });
    expect(j.data.results.find((r: any) => r.version === '1.0-1' && r.package === 'tis-app').installed_version).toBe('1.0-1');
    const el = await site.json(cfg, ['search', '--eligible', 'tis-dev']);
    expect(el.data.results).toEqual([]);
  });

  test('no match: exit 0 and a plain sentence', async () => {
    const h = await site.cli(cfg, ['search', 'zzz-nothing']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('no package matches "zzz-nothing"');
  });
});

describe('show', () => {
  test('every version best first, the chosen one and why; the installed version', async () => {
    const j = await site.json(cfg, ['show', 'tis-app']);
    expect(j.code).toBe(0);
    expect(j.data.versions.map((v: any) => `${v.version} ${v.chosen}`)).toEqual(['2.0-1 true', '1.0-1 false']);
    expect(j.data.chosen).toEqual({ version: '2.0-1', repo: 'global' });
    expect(j.data.why).toContain('highest eligible version');
    expect(j.data.installed).toMatchObject({ version: '1.0-1', install_status: 'OK' });
    const h = await site.cli(cfg, ['show', 'tis-app']);
    expect(h.stdout).toMatch(/installed: 1\.0-1 \(OK\)/);
    expect(h.stdout).toMatch(/\* 2\.0-1\s+global/);
    expect(h.stdout).toMatch(/chosen: 2\.0-1 from global/);
  });

  test('NAME(req): the version satisfying the requirement is chosen', async () => {
    const j = await site.json(cfg, ['show', 'tis-app(<2)']);
    expect(j.data.chosen).toEqual({ version: '1.0-1', repo: 'global' });
    expect(j.data.why).toContain('tis-app(<2)');
  });

  test('a package with no eligible version: chosen none, the reason named', async () => {
    const j = await site.json(cfg, ['show', 'tis-dev']);
    expect(j.data.chosen).toBeNull();
    expect(j.data.why).toMatch(/no eligible version: 3\.0-1 \(global\): maturity DEV not accepted/);
  });

  test('unknown package → PACKAGE_NOT_FOUND, exit 7', async () => {
    const h = await site.cli(cfg, ['show', 'tis-nope']);
    expect(h.code).toBe(7);
    expect(h.stderr).toContain('[PACKAGE_NOT_FOUND]');
  });
});

describe('list and list-upgrade', () => {
  test('list: installed packages, human and --json', async () => {
    const h = await site.cli(cfg, ['list']);
    expect(h.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^tis-app\s+1\.0-1\s+OK$/),
      expect.stringMatching(/^tis-lib\s+1\.0-1\s+OK \(dependency\)$/),
    ]);
    const j = await site.json(cfg, ['list']);
    expect(j.data.installed.map((r: any) => [r.package, r.explicit_by])).toEqual([
      ['tis-app', 'admin'],
      ['tis-lib', null],
    ]);
  });

  test('list-upgrade: tis-app 1.0-1 → 2.0-1; --exit-code gives 100 (UPGRADES_PENDING), 0 without it', async () => {
    const j = await site.json(cfg, ['list-upgrade']);
    expect(j.code).toBe(0);
    expect(j.data.upgrades).toEqual([
      {
        package: 'tis-app',
        action: 'upgrade',
        from: '1.0-1',
        to: '2.0-1',
        reason: 'upgrade',
        repo: 'global',
        filename: expect.stringMatching(/^tis-app_2\.0-1/),
      },
    ]);
    const h = await site.cli(cfg, ['list-upgrade', '--exit-code']);
    expect(h.code).toBe(100);
    expect(h.stdout).toMatch(/tis-app\s+1\.0-1 -> 2\.0-1 \(global\)/);
  });

  test('list-upgrade --exit-code: 0 and "nothing to upgrade" when the only candidate is held', async () => {
    const other = await site.config('held', 'main');
    expect((await site.cli(other, ['update'])).code).toBe(0);
    const db = await openDb(join(dbdirOf(site, 'held'), 'waptdb.sqlite'));
    db.installed.upsert({ package: 'tis-app', version: '1.0-1', install_status: 'OK', explicit_by: 'admin', held: true });
    await db.persist();
    db.close();
    const h = await site.cli(other, ['list-upgrade', '--exit-code']);
    expect(h.code).toBe(0);
    expect(h.stdout.trim()).toBe('nothing to upgrade');
  });
});

describe('download', () => {
  test('resumes an interrupted download (Range from the .part) and verifies the result', async () => {
    const name = basename(bigFile);
    const url = `${site.nginx.url}/main/${name}`;
    const client = new HttpClient({
      verifyCert: parseVerifyCert(site.tls.caCert, site.dir),
      connectTimeoutMs: 3000,
      readTimeoutMs: 3000,
      retries: 0,
      retryBaseMs: 10,
      maxRedirects: 0,
      allowInsecureHttp: false,
      userAgent: 'test',
    });
    const { headers } = await client.head(url);
    await client.close();
    const whole = await readFile(bigFile);
    const half = Math.floor(whole.length / 2);
    const cache = join(dbdirOf(site, 'reader'), 'cache');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(cache, { recursive: true });
    await writeFile(join(cache, `${name}.part`), whole.subarray(0, half));
    await writeFile(join(cache, `${name}.part.json`), JSON.stringify({ url, etag: headers.etag, lastModified: headers['last-modified'] }));

    const j = await site.json(cfg, ['download', 'tis-big']);
    expect(j.code).toBe(0);
    expect(j.data.downloads).toEqual([
      expect.objectContaining({ package: 'tis-big', version: '1.0-1', status: 'downloaded', resumed_from: half, size: whole.length }),
    ]);
    expect(sha(await readFile(join(cache, name)))).toBe(sha(whole));
    const log = await site.nginx.readAccessLog();
    expect(log).toContainEqual(`GET /main/${name} 206 range=bytes=${half}- bytes=${whole.length - half}`);

    const again = await site.json(cfg, ['download', 'tis-big']);
    expect(again.data.downloads[0]).toMatchObject({ status: 'cached', resumed_from: 0 });
  });

  test('--with-deps downloads the chosen version and its dependencies', async () => {
    const j = await site.json(cfg, ['download', '--with-deps', 'tis-app']);
    expect(j.code).toBe(0);
    expect(j.data.downloads.map((d: any) => `${d.package} ${d.version}`).sort()).toEqual(['tis-app 2.0-1', 'tis-lib 1.0-1']);
  });

  test('unknown package → PACKAGE_NOT_FOUND', async () => {
    const h = await site.cli(cfg, ['download', 'tis-nope']);
    expect(h.code).toBe(7);
    expect(h.stderr).toContain('[PACKAGE_NOT_FOUND]');
  });
});

describe('download of a tampered package', () => {
  /** A repository whose tis-other file was altered after signing (one payload member changed). */
  async function tamperedRepo(name: string): Promise<string> {
    const dir = join(site.www, name);
    await copyDir(base, dir);
    await signedScan(site.pki, dir);
    return dir;
  }
  const cacheFiles = async (client: string) =>
    (await readdir(join(dbdirOf(site, client), 'cache')).catch(() => [] as string[])).filter((f) => f.startsWith('tis-other'));

  async function tamper(dir: string): Promise<void> {
    const file = (await readdir(dir)).find((f) => f.startsWith('tis-other_'))!;
    await rewriteZip(join(dir, file), join(dir, 'tmp.zip'), (n, d) => (n === 'data/readme.txt' ? Buffer.from('evil payload\n') : d));
    await rename(join(dir, 'tmp.zip'), join(dir, file));
  }

  test('file changed after indexing → ERR_BAD_DIGEST (index sha256), nothing left in the cache', async () => {
    const dir = await tamperedRepo('tamper-digest');
    const c = await site.config('tamper-digest', 'tamper-digest');
    expect((await site.cli(c, ['update'])).code).toBe(0);
    await tamper(dir);
    const h = await site.cli(c, ['download', 'tis-other']);
    expect(h.stderr).toContain('[ERR_BAD_DIGEST]');
    expect(h.code).toBe(3);
    expect(await cacheFiles('tamper-digest')).toEqual([]);
  });

  test('file changed and re-indexed (digests match) → the package verification fails (MANIFEST_MISMATCH), nothing left in the cache', async () => {
    const dir = await tamperedRepo('tamper-manifest');
    await tamper(dir);
    await signedScan(site.pki, dir); // the index now describes the altered file
    const c = await site.config('tamper-manifest', 'tamper-manifest');
    expect((await site.cli(c, ['update'])).code).toBe(0);
    const h = await site.cli(c, ['download', 'tis-other']);
    expect(h.code).toBe(3);
    expect(h.stderr).toContain('[MANIFEST_MISMATCH]');
    expect(await cacheFiles('tamper-manifest')).toEqual([]);
    expect((await stat(join(dir, 'Packages'))).size).toBeGreaterThan(0);
  });
});
