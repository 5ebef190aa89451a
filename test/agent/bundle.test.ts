// Offline bundles for air-gapped sites: `bundle` over real HTTPS, `update --from-bundle`
// on a client with no network repository, and the same X2 / W-F3 checks as over HTTPS.
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { extractBundleTar } from '../../src/agent/bundle/tar.js';
import { AgentRuntime } from '../../src/agent/runtime.js';
import { loadConfig } from '../../src/agent/config.js';
import { downloadCandidate } from '../../src/agent/cache.js';
import { availableCandidates } from '../../src/agent/candidates.js';
import { sourceForUrl, updateRepo } from '../../src/agent/update/index.js';
import { cleanupPki } from '../helpers/pki.js';
import { buildSpec, copyDir, dbdirOf, readRepoRow, rezipPackages, signedScan, startSite, type Site } from './update-repo-fixture.js';

let site: Site;
let repo: string;
let online: string;

beforeAll(async () => {
  site = await startSite(await mkdtemp(join(tmpdir(), 'wapt-bundle-')));
  const { pki } = site;
  const base = join(site.dir, 'base');
  const work = join(site.dir, 'work');
  await buildSpec(pki, work, base, { name: 'tis-lib', version: '1.0-1' });
  await buildSpec(pki, work, base, { name: 'tis-app', version: '1.0-1', fields: { depends: 'tis-lib' } });
  await buildSpec(pki, work, base, { name: 'tis-app', version: '2.0-1', fields: { depends: 'tis-lib(>=1.0)' } });
  await buildSpec(pki, work, base, { name: 'tis-other', version: '1.0-1' });
  repo = join(site.www, 'main');
  await copyDir(base, repo);
  await signedScan(pki, repo);
  online = await site.config('online', 'main');
});

afterAll(async () => {
  await site?.nginx.stop();
  if (site) {
    cleanupPki(site.pki);
    await rm(site.dir, { recursive: true, force: true });
  }
});

async function tarMembers(file: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = tar.extract();
  const src = createReadStream(file);
  src.pipe(ex);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.set(e.header.name, Buffer.concat(chunks));
  }
  return out;
}

async function writeTar(file: string, entries: { name: string; type?: 'file' | 'symlink' | 'directory'; data?: string; linkname?: string }[]) {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(file));
  for (const e of entries) {
    await new Promise<void>((res, rej) =>
      pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname }, e.data ?? '', (err) => (err ? rej(err) : res())),
    );
  }
  pack.finalize();
  await done;
}

describe('bundle round trip', () => {
  test('bundle → tar with the index exactly as published plus NAME and its dependencies', async () => {
    const out = join(site.dir, 'site.tar');
    const r = await site.json(online, ['bundle', '--out', out, 'tis-app']);
    expect(r.code).toBe(0);
    expect(r.data).toMatchObject({ repo: 'global', signed: true });
    expect(r.data.packages.map((p: any) => `${p.package} ${p.version}`).sort()).toEqual(['tis-app 2.0-1', 'tis-lib 1.0-1']);
    const members = await tarMembers(out);
    expect([...members.keys()].sort()).toEqual(['Packages', ...r.data.packages.map((p: any) => p.filename)].sort());
    expect(members.get('Packages')).toEqual(await readFile(join(repo, 'Packages')));
    for (const p of r.data.packages) expect(members.get(p.filename)).toEqual(await readFile(join(repo, p.filename)));
  });

  test('update --from-bundle on a client with no network repository → search, show and download work', async () => {
    const out = join(site.dir, 'site.tar');
    const offline = await site.config('offline', null);
    const u = await site.json(offline, ['update', '--from-bundle', out]);
    expect(u.code).toBe(0);
    expect(u.data.repos).toEqual([expect.objectContaining({ repo: 'bundle', status: 'updated', packages: 4, rejected: 0, signed: true })]);
    const s = await site.json(offline, ['search', 'tis-app']);
    expect(s.data.results.map((x: any) => `${x.version} ${x.repo}`)).toEqual(['1.0-1 bundle', '2.0-1 bundle']);
    const sh = await site.cli(offline, ['show', 'tis-app']);
    expect(sh.code).toBe(0);
    expect(sh.stdout).toMatch(/chosen: 2\.0-1 from bundle/);
    // Files in the bundle are verified when taken from it, like downloads.
    const d = await site.json(offline, ['download', '--with-deps', 'tis-app']);
    expect(d.code).toBe(0);
    expect(d.data.downloads.map((x: any) => `${x.package} ${x.status}`).sort()).toEqual(['tis-app downloaded', 'tis-lib downloaded']);
    // tis-other is indexed but its file is not in the bundle.
    const missing = await site.cli(offline, ['download', 'tis-other']);
    expect(missing.code).not.toBe(0);
  });

  test('an older bundle after a newer one → INDEX_ROLLBACK, the newer one stays', async () => {
    const older = join(site.dir, 'site.tar');
    await signedScan(site.pki, repo); // the repository publishes a newer index
    const newer = join(site.dir, 'site-newer.tar');
    expect((await site.cli(online, ['bundle', '-o', newer, 'tis-other'])).code).toBe(0);
    const client = await site.config('rollback', null);
    expect((await site.cli(client, ['update', '--from-bundle', newer])).code).toBe(0);
    const before = await readRepoRow(dbdirOf(site, 'rollback'), 'bundle');
    const r = await site.cli(client, ['update', '--from-bundle', older]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('[INDEX_ROLLBACK]');
    const after = await readRepoRow(dbdirOf(site, 'rollback'), 'bundle');
    expect(after.row).toEqual(before.row);
    expect(await readdir(join(dbdirOf(site, 'rollback'), 'bundles', 'bundle'))).toContain('Packages');
  });

  test('a bundle whose Packages was edited → INDEX_DIGEST_MISMATCH, nothing stored or unpacked', async () => {
    const dir = join(site.dir, 'edited-bundle');
    await mkdir(dir, { recursive: true });
    await rezipPackages(join(repo, 'Packages'), join(dir, 'Packages'), (t) => t.replace('tis-other test package', 'tis-other: now with malware'));
    const file = join(site.dir, 'edited.tar');
    const pack = tar.pack();
    const done = pipeline(pack, createWriteStream(file));
    const data = await readFile(join(dir, 'Packages'));
    pack.entry({ name: 'Packages', size: data.length }, data);
    pack.finalize();
    await done;
    const client = await site.config('edited', null);
    const r = await site.cli(client, ['update', '--from-bundle', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('[INDEX_DIGEST_MISMATCH]');
    expect(await readdir(join(dbdirOf(site, 'edited'), 'bundles'))).toEqual([]);
    expect((await readRepoRow(dbdirOf(site, 'edited'), 'bundle')).row).toBeUndefined();
  });
});

describe('tar extraction guards', () => {
  const cases: [string, Parameters<typeof writeTar>[1], string][] = [
    ['a ../ path (traversal)', [{ name: '../evil.wapt', data: 'x' }], 'ZIP_UNSAFE_PATH'],
    ['an absolute path', [{ name: '/tmp/evil.wapt', data: 'x' }], 'ZIP_UNSAFE_PATH'],
    ['a member in a sub-directory', [{ name: 'sub/evil.wapt', data: 'x' }], 'ZIP_UNSAFE_PATH'],
    ['a symbolic link', [{ name: 'Packages', type: 'symlink', linkname: '/etc/passwd' }], 'ZIP_SYMLINK'],
    ['an unexpected file name', [{ name: 'setup.sh', data: 'x' }], 'ZIP_UNSAFE_PATH'],
    [
      'a member given twice',
      [
        { name: 'a.wapt', data: '1' },
        { name: 'a.wapt', data: '2' },
      ],
      'ZIP_DUPLICATE_ENTRY',
    ],
  ];
  test.each(cases)('refuses %s', async (_label, entries, code) => {
    const dir = await mkdtemp(join(site.dir, 'guard-'));
    const file = join(dir, 'bad.tar');
    await writeTar(file, entries);
    const dest = join(dir, 'out');
    await mkdir(dest);
    await expect(extractBundleTar(file, dest)).rejects.toMatchObject({ code });
    expect(await stat(join(dir, 'evil.wapt')).catch(() => null)).toBeNull();
    expect(await stat('/tmp/evil.wapt').catch(() => null)).toBeNull();
  });

  test('update --from-bundle with a traversal member: exit 3, nothing unpacked', async () => {
    const file = join(site.dir, 'evil.tar');
    await writeTar(file, [
      { name: 'Packages', data: 'x' },
      { name: '../../evil.wapt', data: 'x' },
    ]);
    const client = await site.config('evil', null);
    const r = await site.cli(client, ['update', '--from-bundle', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('[ZIP_UNSAFE_PATH]');
    expect(await readdir(join(dbdirOf(site, 'evil'), 'bundles'))).toEqual([]);
  });

  test('a truncated tar → ZIP_INVALID', async () => {
    const file = join(site.dir, 'trunc.tar');
    const full = join(site.dir, 'site.tar');
    const data = await readFile(full);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, data.subarray(0, 1000));
    const dest = await mkdtemp(join(site.dir, 'trunc-'));
    await expect(extractBundleTar(file, dest)).rejects.toMatchObject({ code: 'ZIP_INVALID' });
  });
});

describe('a file: repository (an unpacked bundle directory), called directly', () => {
  test('indexed with the same checks, and packages copied from it are verified', async () => {
    const dir = join(site.dir, 'unpacked');
    await copyDir(repo, dir);
    const cfg = await loadConfig({ path: await site.config('filerepo', null), env: {} });
    const rt = await AgentRuntime.open(cfg, { lock: true, env: {}, log: { info() {}, warn() {}, debug() {} } });
    try {
      const url = pathToFileURL(dir).href;
      const res = await updateRepo(rt, { name: 'usb', url, source: sourceForUrl(url, () => rt.http(rt.config.repos[0]!)), allowUnsigned: false });
      expect(res).toMatchObject({ status: 'updated', packages: 4, signed: true });
      const app = availableCandidates(rt.db, rt.config.repos).find((c) => c.control.get('version') === '2.0-1')!;
      const got = await downloadCandidate(rt, app);
      expect(got).toMatchObject({ status: 'downloaded', path: join(cfg.cacheDir, app.filename) });
      expect(got.verified).toMatchObject({ package: 'tis-app', version: '2.0-1', signer: 'test-deployer' });
      // A file swapped in the directory after indexing is refused and not kept.
      await rm(got.path);
      await copyFile(
        join(
          dir,
          (await readdir(dir)).find((f) => f.startsWith('tis-other'))!,
        ),
        join(dir, app.filename),
      );
      await expect(downloadCandidate(rt, app)).rejects.toMatchObject({ code: 'ERR_BAD_DIGEST' });
      expect(await stat(got.path).catch(() => null)).toBeNull();
    } finally {
      await rt.close();
    }
  });
});
