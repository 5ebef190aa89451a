// Issue 12 §3: the installed state and the stored index live in two files
// (docs/local-state.md). An install rewrites only the small state file; a single-file DB
// from schema 4 is split without losing anything; kill -9 during either write leaves a
// pair the next run opens; a corrupt file of either kind costs only what it held.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import initSqlJs from 'sql.js';
import { migrate, openDb, type AvailableInput } from '../../src/agent/db/index.js';
import { indexPathOf } from '../../src/agent/db/open.js';
import { closureCandidates } from '../../src/agent/candidates.js';

let dir: string;
let dbPath: string;
let indexPath: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wapt-state-'));
  dbPath = path.join(dir, 'waptdb.sqlite');
  indexPath = indexPathOf(dbPath);
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** An index entry the size of a real one (~2.6 KB, mostly control text). */
function entry(i: number): AvailableInput {
  const pkg = `tis-pkg${i}`;
  const control = `package : ${pkg}\nversion : 1.${i}-1\ndescription : ${'x'.repeat(2500)}\n`;
  return { package: pkg, version: `1.${i}-1`, filename: `${pkg}_1.${i}-1_PROD.wapt`, control, maturity: 'PROD', size: 1000 + i };
}

const MiB = 1024 * 1024;

async function storeBigIndex(n: number): Promise<void> {
  const db = await openDb(dbPath);
  db.transaction(() => {
    db.available.replaceRepo(
      'main',
      Array.from({ length: n }, (_, i) => entry(i)),
    );
    db.repos.put({ name: 'main', url: 'https://repo.example/wapt', etag: '"e1"', index_version: 7, index_signed: true });
    db.params.set('index.trust.main', JSON.stringify({ version: 7, packages_sha256: 'a'.repeat(64) }));
  });
  await db.persist();
  db.close();
}

describe('a state file that stays small (issue 12 §3)', () => {
  it('one small install with a 10,000-entry index stored writes ≤ 1 MiB under dbdir and leaves the index file alone', async () => {
    await storeBigIndex(10_000);
    const indexBefore = await fs.stat(indexPath);
    expect(indexBefore.size).toBeGreaterThan(20 * MiB);
    const db = await openDb(dbPath);
    // what transaction.ts does for one package: reserve the row (RUNNING), then the outcome
    db.installed.upsert({ package: 'tis-pkg1', version: '1.1-1', install_status: 'RUNNING', pid: process.pid });
    db.log.append('info', 'installing', 'tis-pkg1');
    await db.persist();
    db.installed.upsert({ package: 'tis-pkg1', version: '1.1-1', install_status: 'OK', setup_code: 'export async function install() {}' });
    await db.persist();
    expect(db.writes.index).toBe(0);
    expect(db.writes.state).toBe(2);
    expect(db.writes.stateBytes + db.writes.indexBytes).toBeLessThanOrEqual(1 * MiB);
    db.close();
    const indexAfter = await fs.stat(indexPath);
    // an atomic rewrite renames a new inode in: same inode and mtime = never rewritten
    expect([indexAfter.ino, indexAfter.mtimeMs]).toEqual([indexBefore.ino, indexBefore.mtimeMs]);
    expect((await fs.stat(dbPath)).size).toBeLessThan(MiB);
  });

  it('a persist with nothing changed writes no file', async () => {
    await storeBigIndex(10);
    const db = await openDb(dbPath);
    await db.persist();
    expect(db.writes).toEqual({ state: 0, index: 0, stateBytes: 0, indexBytes: 0 });
    db.close();
  });
});

/** A DB file as wapt-get wrote it before the split: schema 4, one file holding everything. */
async function writeSingleFileDb(n: number): Promise<void> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  migrate(db, 4);
  const now = new Date().toISOString();
  db.run(`INSERT INTO installed (package, version, install_status, setup_code, updated_at) VALUES ('tis-old', '2-1', 'OK', 'code', ?)`, [now]);
  db.run(`INSERT INTO params (key, value) VALUES ('index.trust.main', '{"version":3}')`);
  db.run(`INSERT INTO log (at, level, message, package) VALUES (?, 'info', 'installed', 'tis-old')`, [now]);
  db.run(`INSERT INTO session_setup (user, package, version, done_on) VALUES ('bob', 'tis-old', '2-1', ?)`, [now]);
  db.run(`INSERT INTO repos (name, url, etag, index_version, index_signed) VALUES ('main', 'https://r/wapt', '"old"', 3, 1)`);
  for (let i = 0; i < n; i++) {
    const e = entry(i);
    db.run('INSERT INTO available (repo, package, version, filename, control) VALUES (?, ?, ?, ?, ?)', ['main', e.package, e.version, e.filename, e.control]);
  }
  await fs.writeFile(dbPath, db.export(), { mode: 0o600 });
  db.close();
}

async function expectEverythingKept(n: number): Promise<void> {
  const db = await openDb(dbPath);
  expect(db.schemaVersion).toBe(5);
  expect(db.installed.get('tis-old')).toMatchObject({ version: '2-1', setup_code: 'code' });
  expect(db.params.get('index.trust.main')).toBe('{"version":3}');
  expect(db.log.forPackage('tis-old').map((l) => l.message)).toEqual(['installed']);
  expect(db.sessions.get('bob', 'tis-old')).toMatchObject({ version: '2-1' });
  expect(db.repos.get('main')).toMatchObject({ etag: '"old"', index_version: 3, index_signed: true });
  expect(db.available.count('main')).toBe(n);
  expect(db.available.forPackage('tis-pkg3')[0].control).toBe(entry(3).control);
  db.close();
}

describe('migration from the single-file DB (schema 4)', () => {
  it('an existing waptdb.sqlite from the previous schema is split and nothing is lost', async () => {
    await writeSingleFileDb(300);
    const db = await openDb(dbPath, { writable: true });
    expect(db.writes).toMatchObject({ state: 1, index: 1 });
    db.close();
    await expectEverythingKept(300);
    // the state file no longer carries the index
    expect((await fs.stat(dbPath)).size).toBeLessThan((await fs.stat(indexPath)).size / 10);
  });

  it('a read-only open splits in memory and writes nothing (the old file stays as it was)', async () => {
    await writeSingleFileDb(50);
    const before = await fs.readFile(dbPath);
    await expectEverythingKept(50);
    expect(await fs.readFile(dbPath)).toEqual(before);
    await expect(fs.stat(indexPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a crash mid-migration (index written, old state not yet replaced) converges: the next open splits again from the old file', async () => {
    await writeSingleFileDb(40);
    // the index write landed with other content (a stale or earlier split), the state rename did not
    const stale = await openDb(path.join(dir, 'other.sqlite'));
    stale.transaction(() => stale.available.replaceRepo('main', [entry(999)]));
    await stale.persist();
    stale.close();
    await fs.copyFile(indexPathOf(path.join(dir, 'other.sqlite')), indexPath);
    await fs.writeFile(`${dbPath}.tmp-999999-abcd`, 'half a state file'); // the temp of the write that was killed
    const db = await openDb(dbPath, { writable: true });
    db.close();
    await expectEverythingKept(40);
  });
});

describe('corrupt files', () => {
  it('a corrupt index DB alone: the installed state is untouched, DB_CORRUPT once, update (recreateCorrupt) rebuilds the index', async () => {
    await storeBigIndex(20);
    const db0 = await openDb(dbPath);
    db0.installed.upsert({ package: 'tis-a', version: '1-1', install_status: 'OK' });
    await db0.persist();
    db0.close();
    const stateBytes = await fs.readFile(dbPath);
    await fs.writeFile(indexPath, 'garbage, not SQLite');
    await expect(openDb(dbPath)).rejects.toMatchObject({ code: 'DB_CORRUPT', message: expect.stringContaining('installed state is untouched') });
    expect(await fs.readFile(dbPath)).toEqual(stateBytes);
    expect((await fs.readdir(dir)).some((n) => n.startsWith('waptdb.index.sqlite.corrupt-'))).toBe(true);
    await fs.writeFile(indexPath, 'garbage again');
    const warnings: string[] = [];
    const db = await openDb(dbPath, { recreateCorrupt: true, onWarning: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toContain('index');
    expect(db.recovery).toBeNull();
    expect(db.installed.get('tis-a')).toMatchObject({ version: '1-1' });
    expect(db.params.get('index.trust.main')).toContain('"version":7'); // the rollback mark survives
    db.transaction(() => db.available.replaceRepo('main', [entry(1), entry(2)]));
    await db.persist();
    db.close();
    const again = await openDb(dbPath);
    expect(again.available.count()).toBe(2);
    again.close();
  });

  it('a corrupt state DB: rebuilt from the side records as before, the stored index kept', async () => {
    await storeBigIndex(20);
    const db0 = await openDb(dbPath);
    db0.installed.upsert({ package: 'tis-a', version: '1-1', install_status: 'OK' });
    await db0.persist();
    db0.close();
    await fs.writeFile(dbPath, 'garbage, not SQLite');
    await expect(openDb(dbPath)).rejects.toMatchObject({ code: 'DB_CORRUPT' });
    const db = await openDb(dbPath);
    expect(db.installed.get('tis-a')).toMatchObject({ version: '1-1' });
    expect(db.available.count('main')).toBe(20);
    db.close();
  });
});

/** A child that loops over update-like and install-like writes until killed. */
const WRITER = `
const { openDb } = await import(process.argv[1]);
const dbPath = process.argv[2];
for (let round = 0; ; round++) {
  const db = await openDb(dbPath);
  const v = (JSON.parse(db.params.get('index.trust.main') ?? '{"version":0}').version) + 1;
  db.transaction(() => {
    db.params.set('index.trust.main', JSON.stringify({ version: v }));
    db.available.replaceRepo('main', Array.from({ length: 400 }, (_, i) => ({ package: 'p' + i, version: String(v), filename: 'f' + i, control: 'package : p' + i + '\\nversion : ' + v + '\\n' + 'x'.repeat(2000) })));
    db.repos.put({ name: 'main', url: 'https://r', index_version: v });
  });
  await db.persist();
  db.installed.upsert({ package: 'tis-app', version: String(v), install_status: 'OK' });
  await db.persist();
  db.close();
  if (round === 0) process.stdout.write('ready\\n');
}
`;

describe('kill -9 during a write of each file', () => {
  it('leaves a consistent pair: both files open, the rollback mark never lags the stored index, the next write converges the side records', async () => {
    const dbModule = path.resolve('dist/agent/db/index.js');
    await fs.access(dbModule); // run `npx tsc -p tsconfig.json` first: the child imports dist/
    for (let i = 0; i < 6; i++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER, dbModule, dbPath], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (c) => reject(new Error(`writer exited ${c}`)));
      });
      await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 400)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const db = await openDb(dbPath, { writable: true });
      const mark = JSON.parse(db.params.get('index.trust.main') ?? '{"version":0}').version as number;
      const stored = db.repos.get('main')?.index_version ?? 0;
      expect(mark).toBeGreaterThanOrEqual(stored); // state is written before the index
      expect(db.available.count('main')).toBe(400);
      expect(new Set(db.available.forPackage('p7').map((r) => r.version))).toEqual(new Set([String(stored)]));
      db.log.append('info', 'next run'); // the next write brings a lagging side record up to date
      await db.persist();
      const side = JSON.parse(await fs.readFile(path.join(dir, 'installed', 'tis-app.json'), 'utf8')) as { row: { version: string } };
      expect(side.row.version).toBe(db.installed.get('tis-app')?.version);
      db.close();
    }
  }, 120_000);
});

describe('upgrade reads only what it can reach (issue 12 §3)', () => {
  function dep(name: string, depends = ''): AvailableInput {
    return { package: name, version: '2-1', filename: `${name}.wapt`, control: `package : ${name}\nversion : 2-1\ndepends : ${depends}\n` };
  }

  it('the candidates are the installed names and their depends closure, not the whole index; a {uuid} depends falls back to the whole index', async () => {
    const db = await openDb(dbPath);
    db.transaction(() =>
      db.available.replaceRepo('main', [
        dep('tis-a', 'tis-b(>=1)'),
        dep('tis-b', 'tis-c'),
        dep('tis-c'),
        ...Array.from({ length: 500 }, (_, i) => dep(`tis-other${i}`)),
      ]),
    );
    const names = (cs: { control: Map<string, string> }[] | undefined) => cs?.map((c) => c.control.get('package')).sort();
    const some = closureCandidates(
      db,
      ['tis-a'],
      () => 0,
      () => true,
    );
    expect(names(some)).toEqual(['tis-a', 'tis-b', 'tis-c']);
    db.transaction(() => db.available.replaceRepo('main', [dep('tis-a', '{0b5c1e2a-0000-4000-8000-000000000000}')]));
    expect(
      closureCandidates(
        db,
        ['tis-a'],
        () => 0,
        () => true,
      ),
    ).toBeUndefined();
    db.close();
  });
});
