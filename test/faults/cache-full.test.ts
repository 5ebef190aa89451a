// Issue 9, case 9: the cache fills up during a download. Free space is checked against
// the size the index declares before any byte is fetched; a write that still hits ENOSPC
// names the cache directory and drops its .part (a full part would only hold the space
// the next install needs); `clean` drops parts that can never complete.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanupPki } from '../helpers/pki.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { mountTmpfs, type Tmpfs } from './tmpfs.js';

let w: AgentEnv;
let fs: Tmpfs;
let cache: string;
const BIG = 'tis-bigcache_1.0-1.wapt';

beforeAll(async () => {
  // 256 KiB/s: a 3 MiB package takes ~12 s, time to fill the disk under it
  w = await makeAgentEnv({ rateLimit: '256k' });
  fs = mountTmpfs(path.join(w.dir, 'small-cache'), '4m');
  cache = path.join(fs.dir, 'cache');
  await w.configure({ cachedir: cache });
  await w.publish({ name: 'tis-bigcache', files: { 'payload.bin': randomBytes(3 * 1024 * 1024) } }, { name: 'tis-tiny' });
  expect((await w.run(['update'])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  fs?.umount();
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

const parts = async () => (await readdir(cache).catch(() => [] as string[])).filter((n) => n.includes('.part'));

test('case 9: not enough room for the declared size → ERR_OUT_OF_SPACE naming the cache dir, before any download', async () => {
  fs.fill(1024 * 1024); // 1 MiB free, the package is 3 MiB
  try {
    const r = await w.run(['install', 'tis-bigcache'], { json: true });
    expect(r.code).toBe(6);
    const res = JSON.parse(r.stdout).results[0];
    expect(res).toMatchObject({ package: 'tis-bigcache', status: 'ERROR', error_code: 'ERR_OUT_OF_SPACE' });
    expect(res.message).toMatch(new RegExp(`downloading ${BIG} needs \\d+ bytes in ${cache}, only \\d+ are free`));
    expect(await parts()).toEqual([]); // nothing was fetched
  } finally {
    fs.unfill();
  }
}, 60_000);

test('case 9: the disk fills during the download → ERR_OUT_OF_SPACE naming the dir, the part is dropped, a tiny install still works', async () => {
  const child = w.spawn(['--json', 'install', 'tis-bigcache']);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const part = path.join(cache, `${BIG}.part`);
  // wait until the download is well under way, then take the rest of the disk
  for (let i = 0; i < 200; i++) {
    const size = existsSync(part) ? (await import('node:fs')).statSync(part).size : 0;
    if (size > 512 * 1024) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(existsSync(part)).toBe(true);
  fs.fill();
  try {
    expect(await done).toBe(6);
    const res = JSON.parse(out).results[0];
    expect(res).toMatchObject({ package: 'tis-bigcache', status: 'ERROR', error_code: 'ERR_OUT_OF_SPACE' });
    expect(res.message).toContain(cache);
    expect(await parts()).toEqual([]);
    // the space the part held is back: a small package fits beside the filler
    const tiny = await w.run(['install', 'tis-tiny'], { json: true });
    expect(tiny.code).toBe(0);
  } finally {
    fs.unfill();
  }
}, 60_000);

test('case 9: clean drops parts that can never complete, keeps one that can', async () => {
  // tis-bigcache failed above: the upgrade plan retries it, so its part is "needed"
  const part = path.join(cache, `${BIG}.part`);
  await writeFile(part, randomBytes(64 * 1024));
  await writeFile(`${part}.json`, JSON.stringify({ url: 'x', etag: '"e"' }));
  const kept = await w.run(['clean'], { json: true });
  expect(kept.code).toBe(0);
  expect(JSON.parse(kept.stdout).kept).toEqual(expect.arrayContaining([`${BIG}.part`, `${BIG}.part.json`]));

  fs.fill(512 * 1024); // the rest (~3 MiB) no longer fits
  try {
    const free = await statfs(cache);
    expect(free.bavail * free.bsize).toBeLessThan(3 * 1024 * 1024);
    const r = await w.run(['clean'], { json: true });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.removed).toEqual(expect.arrayContaining([`${BIG}.part`, `${BIG}.part.json`]));
    expect(doc.dead_parts[0]).toMatchObject({ file: `${BIG}.part` });
    expect(doc.dead_parts[0].reason).toContain(cache);
    expect(await parts()).toEqual([]);
  } finally {
    fs.unfill();
  }
  // a part as long as the whole file (or longer) can never complete either
  await writeFile(part, randomBytes(4 * 1024 * 1024 - 512 * 1024));
  const full = await w.run(['clean'], { json: true });
  expect(JSON.parse(full.stdout).removed).toContain(`${BIG}.part`);
}, 60_000);
