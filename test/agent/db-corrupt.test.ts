// A damaged local DB is never overwritten or deleted: it is moved to
// <path>.corrupt-<timestamp> with its bytes intact, then DB_CORRUPT (or, for `update`,
// a loud warning and a fresh DB).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { isWaptError, type WaptError } from '../../src/errors.js';
import { openDb } from '../../src/agent/db/index.js';
import { moveAside } from '../../src/agent/db/files.js';

let dir: string;
let dbPath: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wapt-dbc-'));
  dbPath = path.join(dir, 'waptdb.sqlite');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A real DB file with enough rows to span many pages. */
async function realDbBytes(): Promise<Buffer> {
  const db = await openDb(dbPath);
  db.transaction(() => {
    for (let i = 0; i < 300; i++) db.installed.upsert({ package: `p${i}`, version: '1', install_output: 'x'.repeat(300) });
  });
  await db.persist();
  db.close();
  return fs.readFile(dbPath);
}

async function expectCorrupt(original: Buffer): Promise<{ err: WaptError; movedTo: string }> {
  let err: unknown;
  try {
    (await openDb(dbPath)).close();
  } catch (e) {
    err = e;
  }
  expect(isWaptError(err, 'DB_CORRUPT')).toBe(true);
  const we = err as WaptError;
  const movedTo = we.detail.movedTo as string;
  expect(path.dirname(movedTo)).toBe(dir);
  expect(path.basename(movedTo)).toMatch(/^waptdb\.sqlite\.corrupt-\d{8}T\d{6}\.\d{3}Z$/);
  expect(we.message).toContain(dbPath);
  expect(we.message).toContain(movedTo);
  expect(await fs.readFile(movedTo)).toEqual(original);
  await expect(fs.stat(dbPath)).rejects.toMatchObject({ code: 'ENOENT' });
  return { err: we, movedTo };
}

describe('corrupt DB handling', () => {
  it('random bytes → DB_CORRUPT, original bytes preserved at the .corrupt path', async () => {
    const junk = randomBytes(8192);
    await fs.writeFile(dbPath, junk);
    const { err } = await expectCorrupt(junk);
    expect(err.detail.reason).toMatch(/not an SQLite database/);
  });

  it('random bytes behind a valid SQLite header → DB_CORRUPT', async () => {
    const junk = Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), randomBytes(8192)]);
    await fs.writeFile(dbPath, junk);
    await expectCorrupt(junk);
  });

  it('a truncated real DB → DB_CORRUPT, truncated bytes preserved', async () => {
    const full = await realDbBytes();
    const truncated = full.subarray(0, Math.floor(full.length / 2));
    await fs.writeFile(dbPath, truncated);
    await expectCorrupt(Buffer.from(truncated));
  });

  it('a real DB with a damaged page → DB_CORRUPT', async () => {
    const full = await realDbBytes();
    const damaged = Buffer.from(full);
    randomBytes(4096).copy(damaged, 4096 * 3); // overwrite the 4th page
    await fs.writeFile(dbPath, damaged);
    await expectCorrupt(damaged);
  });

  it('an empty file → DB_CORRUPT (persist never writes one)', async () => {
    await fs.writeFile(dbPath, '');
    const { err } = await expectCorrupt(Buffer.alloc(0));
    expect(err.detail.reason).toMatch(/empty/);
  });

  it('recreateCorrupt moves the file aside, warns loudly naming both paths, and starts empty', async () => {
    const junk = randomBytes(4096);
    await fs.writeFile(dbPath, junk);
    const warnings: string[] = [];
    const db = await openDb(dbPath, { recreateCorrupt: true, onWarning: (m) => warnings.push(m) });
    expect(db.installed.list()).toEqual([]);
    db.params.set('fresh', 'yes');
    await db.persist();
    db.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^WARNING: .*corrupt.*EMPTY/);
    expect(warnings[0]).toContain(dbPath);
    const aside = (await fs.readdir(dir)).filter((n) => n.includes('.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(warnings[0]).toContain(path.join(dir, aside[0]));
    expect(await fs.readFile(path.join(dir, aside[0]))).toEqual(junk);
    const again = await openDb(dbPath);
    expect(again.params.get('fresh')).toBe('yes');
    again.close();
  });

  it('moving aside twice within the same millisecond never overwrites the first copy', async () => {
    const when = new Date('2024-01-31T23:59:59.123Z');
    await fs.writeFile(dbPath, 'first');
    const a = await moveAside(dbPath, when);
    await fs.writeFile(dbPath, 'second');
    const b = await moveAside(dbPath, when);
    expect(a).toBe(`${dbPath}.corrupt-20240131T235959.123Z`);
    expect(b).toBe(`${a}-1`);
    expect(await fs.readFile(a, 'utf8')).toBe('first');
    expect(await fs.readFile(b, 'utf8')).toBe('second');
  });
});
