// The schema is versioned through PRAGMA user_version; an old DB is migrated in place
// and keeps its rows.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { MIGRATIONS, migrate, openDb, SCHEMA_VERSION } from '../../src/agent/db/index.js';
import { userVersion } from '../../src/agent/db/schema.js';
import { loadSqlJs } from '../../src/agent/db/sqljs.js';

let dir: string;
let dbPath: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wapt-dbm-'));
  dbPath = path.join(dir, 'waptdb.sqlite');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('schema migrations', () => {
  it('migrations are numbered 1..N without gaps and SCHEMA_VERSION is the last', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('a v1 DB written to disk opens migrated to the latest version with its rows intact', async () => {
    const SQL = await loadSqlJs();
    const v1 = new SQL.Database();
    expect(migrate(v1, 1)).toEqual([1]);
    expect(userVersion(v1)).toBe(1);
    v1.run(
      `INSERT INTO installed (package, version, install_status, explicit_by, install_params, updated_at)
       VALUES ('tis-old', '0.9-1', 'OK', 'root', '{"x":1}', '2020-01-01T00:00:00.000Z')`,
    );
    v1.run(`INSERT INTO repos (name, url, etag) VALUES ('main', 'https://old', 'e1')`);
    // v1 has no hold columns and no session table: the later migrations add them.
    expect(() => v1.exec('SELECT held FROM installed')).toThrow();
    await fs.writeFile(dbPath, v1.export());
    v1.close();

    const db = await openDb(dbPath);
    expect(db.schemaVersion).toBe(SCHEMA_VERSION);
    expect(db.installed.get('tis-old')).toMatchObject({
      version: '0.9-1',
      install_status: 'OK',
      explicit_by: 'root',
      install_params: { x: 1 },
      held: false,
      hold_reason: null,
    });
    expect(db.repos.get('main')).toMatchObject({ url: 'https://old', etag: 'e1', index_signed: false, index_version: null });
    db.sessions.record('alice', 'tis-old', '0.9-1');
    db.installed.setStatus('tis-old', 'OK', { held: true, hold_reason: 'keep' });
    await db.persist();
    db.close();

    const again = await openDb(dbPath);
    expect(again.installed.get('tis-old')).toMatchObject({ held: true, hold_reason: 'keep' });
    expect(again.sessions.forUser('alice')).toHaveLength(1);
    again.close();
  });

  it('migrate is idempotent on a current DB', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    expect(migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(migrate(db)).toEqual([]);
    db.close();
  });

  it('a migration that fails is rolled back and leaves the DB at the last good version', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    migrate(db, 1);
    db.run('CREATE TABLE session_setup (x TEXT)'); // makes migration 2 fail half-way
    expect(() => migrate(db)).toThrow(/session_setup/);
    expect(userVersion(db)).toBe(1);
    expect(() => db.exec('SELECT held FROM installed')).toThrow(); // its ALTERs were undone
    db.close();
  });

  it('a DB whose migration fails → DB_ERROR at open, file not moved aside', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    migrate(db, 1);
    db.run('CREATE TABLE session_setup (x TEXT)');
    await fs.writeFile(dbPath, db.export());
    db.close();
    await expect(openDb(dbPath)).rejects.toMatchObject({ code: 'DB_ERROR', message: expect.stringContaining('migrate') });
    expect(await fs.readdir(dir)).toEqual(['waptdb.sqlite']);
  });
});
