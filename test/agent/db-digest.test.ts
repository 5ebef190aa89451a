// openDb skips the full integrity check only for a file byte-for-byte equal to what
// persist() last wrote (its SHA-256 is kept in <db>.sha256); every other file is checked
// in full as before. Also: page size of new DBs, the in-memory journal still rolls back,
// and forPackages() (the query summarize() uses instead of reading the whole index).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { openDb } from '../../src/agent/db/index.js';
import { loadSqlJs } from '../../src/agent/db/sqljs.js';

let dir: string;
let dbPath: string;
const digestPath = () => `${dbPath}.sha256`;
const sha256 = async (file: string) =>
  (await import('node:crypto'))
    .createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wapt-dbd-'));
  dbPath = path.join(dir, 'waptdb.sqlite');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function dbWithRows(n = 300): Promise<void> {
  const db = await openDb(dbPath);
  db.transaction(() => {
    for (let i = 0; i < n; i++) db.installed.upsert({ package: `p${i}`, version: '1', install_output: 'x'.repeat(300) });
  });
  await db.persist();
  db.close();
}

/** Overwrites the 4th page with random bytes (a damaged page the full check finds). */
async function damagePage(): Promise<Buffer> {
  const bytes = await fs.readFile(dbPath);
  const pageSize = bytes.readUInt16BE(16);
  randomBytes(pageSize).copy(bytes, pageSize * 3);
  await fs.writeFile(dbPath, bytes);
  return bytes;
}

describe('the digest of the last write', () => {
  it('persist records the SHA-256 of exactly the bytes it wrote', async () => {
    await dbWithRows(10);
    expect((await fs.readFile(digestPath(), 'latin1')).trim()).toBe(await sha256(dbPath));
  });

  it('a damaged page under a stale digest (the previous write) → DB_CORRUPT: the full check still runs', async () => {
    await dbWithRows();
    await damagePage();
    await expect(openDb(dbPath)).rejects.toMatchObject({ code: 'DB_CORRUPT' });
    // The digest that described the moved file is gone; the one there now describes the DB
    // rebuilt from the side records (issue 9 case 7), never the damaged bytes.
    expect((await fs.readFile(digestPath(), 'latin1')).trim()).toBe(await sha256(dbPath));
  });

  it('a truncated DB under its digest → DB_CORRUPT', async () => {
    await dbWithRows();
    const full = await fs.readFile(dbPath);
    await fs.writeFile(dbPath, full.subarray(0, full.length >> 1));
    await expect(openDb(dbPath)).rejects.toMatchObject({ code: 'DB_CORRUPT' });
  });

  it('a digest that matches the bytes skips the full check (the fast path is taken)', async () => {
    await dbWithRows();
    const damaged = await damagePage();
    // Recording the damaged bytes as "what persist wrote" makes openDb trust them: proof
    // that the integrity check is skipped exactly when the digest matches.
    await fs.writeFile(digestPath(), (await import('node:crypto')).createHash('sha256').update(damaged).digest('hex') + '\n');
    const db = await openDb(dbPath);
    db.close();
  });

  it.each([
    ['a garbage digest file', 'not a digest'],
    ['an empty digest file', ''],
    ['the digest of other bytes (a crash between the DB and digest renames)', 'a'.repeat(64)],
  ])('%s → full check, a sound DB opens and the next persist repairs the digest', async (_n, content) => {
    await dbWithRows(20);
    await fs.writeFile(digestPath(), content);
    const db = await openDb(dbPath);
    expect(db.installed.list()).toHaveLength(20);
    db.params.set('touched', '1'); // persist writes only a file that changed
    await db.persist();
    db.close();
    expect((await fs.readFile(digestPath(), 'latin1')).trim()).toBe(await sha256(dbPath));
  });

  it('a DB without any digest (written by an older wapt-get or another tool) opens after the full check', async () => {
    await dbWithRows(5);
    await fs.rm(digestPath());
    const db = await openDb(dbPath);
    expect(db.installed.list()).toHaveLength(5);
    db.close();
  });

  it('a digest temp file left by a dead writer is swept at open', async () => {
    await dbWithRows(1);
    const stale = `${digestPath()}.tmp-999999999-deadbeef`;
    await fs.writeFile(stale, 'x');
    (await openDb(dbPath)).close();
    await expect(fs.stat(stale)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('pragmas', () => {
  it('a new DB file has 8 KiB pages', async () => {
    await dbWithRows(1);
    expect((await fs.readFile(dbPath)).readUInt16BE(16)).toBe(8192);
  });

  it('an existing 4 KiB-page DB keeps its page size and its rows', async () => {
    const SQL = await loadSqlJs();
    const raw = new SQL.Database();
    raw.exec('PRAGMA page_size = 4096; CREATE TABLE t (x)');
    await fs.writeFile(dbPath, raw.export());
    raw.close();
    const db = await openDb(dbPath);
    db.params.set('k', 'v');
    await db.persist();
    db.close();
    expect((await fs.readFile(dbPath)).readUInt16BE(16)).toBe(4096);
    const again = await openDb(dbPath);
    expect(again.params.get('k')).toBe('v');
    again.close();
  });

  it('with the journal in memory a failed transaction still rolls back, before and after a persist', async () => {
    const db = await openDb(dbPath);
    const rows = (tag: string) => Array.from({ length: 50 }, (_, i) => ({ package: `a${i}`, version: '1', filename: `a${i}_1.wapt`, control: tag }));
    db.available.replaceRepo('r', rows('first'));
    await db.persist();
    for (const when of ['after persist', 'again']) {
      expect(() =>
        db.transaction(() => {
          db.available.replaceRepo('r', rows('second'));
          throw new Error(`boom ${when}`);
        }),
      ).toThrow(/boom/);
      expect(db.available.count('r')).toBe(50);
      expect(db.available.forPackage('a7')[0]!.control).toBe('first');
    }
    db.close();
  });
});

describe('available rows', () => {
  it('a control bound as UTF-8 bytes is stored and read back as the same TEXT (non-ASCII, empty, multi-line)', async () => {
    const controls = ['package : é-ü ✓ 😀\ndescription: 日本語\n', '', 'a\r\nb\n\tc'];
    const db = await openDb(dbPath);
    db.available.replaceRepo(
      'r',
      controls.map((control, i) => ({ package: `u${i}`, version: '1', filename: `u${i}_1.wapt`, control })),
    );
    await db.persist();
    db.close();
    const again = await openDb(dbPath);
    expect(controls.map((_, i) => again.available.forPackage(`u${i}`)[0]!.control)).toEqual(controls);
    again.close();
  });

  it('forPackages returns every row of the names asked (across chunks of the IN list), none of the others', async () => {
    const db = await openDb(dbPath);
    const entries = Array.from({ length: 1500 }, (_, i) => ({ package: `n${i}`, version: '1', filename: `n${i}_1.wapt`, control: `c${i}` }));
    db.available.replaceRepo('r1', entries);
    db.available.replaceRepo(
      'r2',
      entries.slice(0, 10).map((e) => ({ ...e, version: '2' })),
    );
    const names = Array.from({ length: 1200 }, (_, i) => `n${i * 1}`).concat(['n3', 'absent']);
    const got = db.available.forPackages(names);
    expect(got).toHaveLength(1200 + 10);
    expect(new Set(got.map((r) => r.package))).toEqual(new Set(names.filter((n) => n !== 'absent')));
    // Rows of one name keep forPackage()'s order (repo, then insertion).
    expect(got.filter((r) => r.package === 'n3').map((r) => `${r.repo}:${r.version}`)).toEqual(['r1:1', 'r2:2']);
    expect(db.available.forPackages([])).toEqual([]);
    db.close();
  });
});
