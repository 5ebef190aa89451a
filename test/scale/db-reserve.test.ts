// Issue 12 §3: the disk-full reserve beside the state DB (db-reserve.ts) is kept between
// installs and grown only when the DB grew, so a small install no longer writes ~1.1 MiB
// of it each time; a link planted in its place is refused, never written through.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { openDb, type WaptDb } from '../../src/agent/db/index.js';
import { RESERVE_SUFFIX, reserveDbSpace } from '../../src/agent/install/db-reserve.js';
import { isWaptError } from '../../src/errors.js';

let dir: string;
let db: WaptDb;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wapt-reserve-'));
  db = await openDb(path.join(dir, 'waptdb.sqlite'));
  await db.persist();
});
afterEach(async () => {
  db.close();
  await fs.rm(dir, { recursive: true, force: true });
});

it('the second install finds the reserve in place and writes none of it again', async () => {
  await (await reserveDbSpace(db)).persist();
  const file = db.path + RESERVE_SUFFIX;
  const first = await fs.stat(file);
  expect(first.size).toBeGreaterThan(1024 * 1024);
  expect(first.mode & 0o777).toBe(0o600);
  const before = await fs.readFile(file);
  await new Promise((r) => setTimeout(r, 20));
  await (await reserveDbSpace(db)).persist();
  const second = await fs.stat(file);
  expect(second.ino).toBe(first.ino);
  expect(second.mtimeMs).toBe(first.mtimeMs); // not rewritten
  expect((await fs.readFile(file)).equals(before)).toBe(true);
});

it('a reserve smaller than the DB now needs is grown, not replaced', async () => {
  const file = db.path + RESERVE_SUFFIX;
  await fs.writeFile(file, Buffer.alloc(1000, 7), { mode: 0o600 });
  await reserveDbSpace(db);
  const st = await fs.stat(file);
  expect(st.size).toBeGreaterThan(1024 * 1024);
  expect((await fs.readFile(file)).subarray(0, 1000).equals(Buffer.alloc(1000, 7))).toBe(true);
});

it('a symlink planted at the reserve path → DB_ERROR, its target untouched', async () => {
  const victim = path.join(dir, 'victim.txt');
  await fs.writeFile(victim, 'keep me');
  await fs.symlink(victim, db.path + RESERVE_SUFFIX);
  const err = await reserveDbSpace(db).catch((e: unknown) => e);
  expect(isWaptError(err, 'DB_ERROR')).toBe(true);
  expect(await fs.readFile(victim, 'utf8')).toBe('keep me');
  expect((await fs.lstat(db.path + RESERVE_SUFFIX)).isSymbolicLink()).toBe(true);
});

it('a hard link planted at the reserve path → DB_ERROR, the other name untouched', async () => {
  const victim = path.join(dir, 'victim.bin');
  await fs.writeFile(victim, 'x');
  await fs.link(victim, db.path + RESERVE_SUFFIX);
  const err = await reserveDbSpace(db).catch((e: unknown) => e);
  expect(isWaptError(err, 'DB_ERROR')).toBe(true);
  expect(await fs.readFile(victim, 'utf8')).toBe('x');
});
