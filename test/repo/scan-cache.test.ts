// The scan cache file pair (src/repo/scan/cache.ts): append-only blob, atomic JSON, compaction.
import { mkdtemp, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyScanCache, loadScanCache, saveScanCache, SCAN_CACHE_FILE, type CachedPackage } from '../../src/repo/scan/cache.js';

let tmp: string;
let n = 0;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-cache-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function entry(name: string, body = 'x'.repeat(100)): CachedPackage {
  return {
    size: 10,
    mtimeMs: 1.5,
    ino: 7,
    md5: 'm',
    sha256: 's',
    package: name,
    version: '1',
    section: 'base',
    signatureDate: '',
    setupKind: 'none',
    certs: ['fp1'],
    verified: null,
    block: Buffer.from(`package           : ${name}\nversion           : 1\ndescription       : ${body}`),
  };
}

async function newDir(): Promise<string> {
  const dir = join(tmp, `d${++n}`);
  await import('node:fs/promises').then((f) => f.mkdir(dir));
  return dir;
}

const blobs = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.blob')).sort();

test('save then load gives the same entries and blocks', async () => {
  const dir = await newDir();
  const c = emptyScanCache();
  c.entries.set('a.wapt', entry('a'));
  c.entries.set('b.wapt', entry('b'));
  c.certs.set('fp1', 'PEM');
  c.lastStatementVersion = 42;
  await saveScanCache(dir, c);
  const back = await loadScanCache(dir);
  expect([...back.entries.keys()]).toEqual(['a.wapt', 'b.wapt']);
  expect(back.entries.get('b.wapt')!.block.toString()).toBe(entry('b').block.toString());
  expect(back.entries.get('a.wapt')).toMatchObject({ size: 10, mtimeMs: 1.5, ino: 7, certs: ['fp1'], verified: null });
  expect(back.certs.get('fp1')).toBe('PEM');
  expect(back.lastStatementVersion).toBe(42);
});

test('a changed entry appends one block; unchanged blocks are not rewritten', async () => {
  const dir = await newDir();
  const c = emptyScanCache();
  for (const x of ['a', 'b', 'c']) c.entries.set(`${x}.wapt`, entry(x));
  await saveScanCache(dir, c);
  const [blob] = await blobs(dir);
  const before = (await stat(join(dir, blob!))).size;
  const loaded = await loadScanCache(dir);
  loaded.entries.set('b.wapt', entry('b', 'changed'));
  await saveScanCache(dir, loaded);
  expect(await blobs(dir)).toEqual([blob]);
  expect((await stat(join(dir, blob!))).size).toBe(before + entry('b', 'changed').block.length);
  const again = await loadScanCache(dir);
  expect(again.entries.get('b.wapt')!.block.toString()).toContain('changed');
  expect(again.entries.get('a.wapt')!.block.toString()).toBe(entry('a').block.toString());
});

test('when most of the blob is dead it is compacted into a new generation and the old one removed', async () => {
  const dir = await newDir();
  const c = emptyScanCache();
  for (const x of ['a', 'b', 'c']) c.entries.set(`${x}.wapt`, entry(x));
  await saveScanCache(dir, c);
  const [first] = await blobs(dir);
  const loaded = await loadScanCache(dir);
  loaded.entries.delete('a.wapt');
  loaded.entries.delete('b.wapt');
  await saveScanCache(dir, loaded, { compactMinDead: 10 });
  const [second] = await blobs(dir);
  expect(second).not.toBe(first);
  expect((await stat(join(dir, second!))).size).toBe(entry('c').block.length);
  expect((await loadScanCache(dir)).entries.get('c.wapt')!.block.toString()).toBe(entry('c').block.toString());
});

test('a blob shorter than the JSON says (lost write): the cache is ignored with a warning', async () => {
  const dir = await newDir();
  const c = emptyScanCache();
  c.entries.set('a.wapt', entry('a'));
  await saveScanCache(dir, c);
  await truncate(join(dir, (await blobs(dir))[0]!), 10);
  const warnings: string[] = [];
  const back = await loadScanCache(dir, (m) => warnings.push(m));
  expect(back.entries.size).toBe(0);
  expect(warnings.join()).toMatch(/blob shorter/);
});

test('a JSON whose offsets point at the wrong place: ignored', async () => {
  const dir = await newDir();
  const c = emptyScanCache();
  c.entries.set('a.wapt', entry('a'));
  c.entries.set('b.wapt', entry('b'));
  await saveScanCache(dir, c);
  const json = JSON.parse(await readFile(join(dir, SCAN_CACHE_FILE), 'utf8'));
  json.entries[1][13] += 3; // off of b.wapt
  await import('node:fs/promises').then((f) => f.writeFile(join(dir, SCAN_CACHE_FILE), JSON.stringify(json)));
  expect((await loadScanCache(dir)).entries.size).toBe(0);
});

test('no cache at all: empty, no warning', async () => {
  const warnings: string[] = [];
  expect((await loadScanCache(await newDir(), (m) => warnings.push(m))).entries.size).toBe(0);
  expect(warnings).toEqual([]);
});
