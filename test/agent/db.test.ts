// W-G1 / W-G2: the local DB round-trips through persist/reopen, writes atomically and
// offers the typed table API the agent uses.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { isWaptError } from '../../src/errors.js';
import { INSTALL_STATUSES, openDb, SCHEMA_VERSION, type AvailableInput } from '../../src/agent/db/index.js';

let dir: string;
let dbPath: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'wapt-db-'));
  dbPath = path.join(dir, 'waptdb.sqlite');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

function entry(i: number, extra: Partial<AvailableInput> = {}): AvailableInput {
  const pkg = `tis-pkg${i}`;
  return {
    package: pkg,
    version: `1.${i}-1`,
    filename: `${pkg}_1.${i}-1_PROD.wapt`,
    control: `package : ${pkg}\nversion : 1.${i}-1\n`,
    maturity: 'PROD',
    size: 1000 + i,
    md5sum: 'd41d8cd98f00b204e9800998ecf8427e',
    description: `Package number ${i}`,
    ...extra,
  };
}

describe('openDb / persist round trip (W-G1)', () => {
  it('a missing file gives an empty DB at the latest schema and creates nothing until persist', async () => {
    const db = await openDb(dbPath);
    expect(db.schemaVersion).toBe(SCHEMA_VERSION);
    expect(db.installed.list()).toEqual([]);
    await expect(fs.stat(dbPath)).rejects.toMatchObject({ code: 'ENOENT' });
    await db.persist();
    expect((await fs.stat(dbPath)).size).toBeGreaterThan(0);
    db.close();
  });

  it('every table survives persist, close and reopen', async () => {
    const db = await openDb(path.join(dir, 'sub', 'dir', 'waptdb.sqlite')); // persist creates dbdir
    db.installed.upsert({
      package: 'tis-hello',
      version: '1.2.3-4',
      architecture: 'x64',
      maturity: 'PROD',
      explicit_by: 'alice',
      install_status: 'OK',
      install_date: '2024-05-01T10:00:00.000Z',
      install_params: { silent: true, lang: 'fr' },
      uninstall_data: { keys: ['{ABC}'], removeDir: '/opt/hello' },
      setup_code: 'export async function install() {}\n',
      signer_fingerprint: 'ab'.repeat(32),
      held: true,
      hold_reason: 'pinned by admin',
      pid: 4242,
    });
    db.installed.upsert({ package: 'tis-dep', version: '2', depends_by: 'tis-hello' });
    db.available.replaceRepo('main', [entry(1), entry(2)]);
    db.repos.put({ name: 'main', url: 'https://repo.example/wapt', index_version: 17, index_signed: true, etag: '"x"' });
    db.params.set('last_update', '2024-05-01');
    db.sessions.record('alice', 'tis-hello', '1.2.3-4', '2024-05-02T00:00:00.000Z');
    db.log.append('info', 'installed', 'tis-hello');
    await db.persist();
    db.close();

    const again = await openDb(path.join(dir, 'sub', 'dir', 'waptdb.sqlite'));
    const hello = again.installed.get('tis-hello')!;
    expect(hello).toMatchObject({
      version: '1.2.3-4',
      architecture: 'x64',
      section: 'base',
      priority: 'optional',
      explicit_by: 'alice',
      depends_by: null,
      install_status: 'OK',
      install_params: { silent: true, lang: 'fr' },
      uninstall_data: { keys: ['{ABC}'], removeDir: '/opt/hello' },
      setup_code: 'export async function install() {}\n',
      held: true,
      hold_reason: 'pinned by admin',
      pid: 4242,
    });
    expect(Date.parse(hello.updated_at)).not.toBeNaN();
    expect(again.installed.get('tis-dep')).toMatchObject({ depends_by: 'tis-hello', explicit_by: null, install_status: 'INIT', held: false });
    expect(again.installed.list().map((r) => r.package)).toEqual(['tis-dep', 'tis-hello']);
    expect(again.available.forPackage('tis-pkg2')).toEqual([
      expect.objectContaining({ repo: 'main', version: '1.2-1', size: 1002, control: 'package : tis-pkg2\nversion : 1.2-1\n' }),
    ]);
    expect(again.repos.get('main')).toMatchObject({ index_version: 17, index_signed: true, etag: '"x"', last_modified: null });
    expect(again.params.get('last_update')).toBe('2024-05-01');
    expect(again.params.get('missing')).toBeUndefined();
    expect(again.sessions.get('alice', 'tis-hello')).toEqual({
      user: 'alice',
      package: 'tis-hello',
      version: '1.2.3-4',
      done_on: '2024-05-02T00:00:00.000Z',
    });
    expect(again.log.forPackage('tis-hello')).toEqual([expect.objectContaining({ level: 'info', message: 'installed' })]);
    again.close();
  });

  it('persist leaves no temp file behind', async () => {
    const db = await openDb(dbPath);
    db.params.set('a', '1');
    await db.persist();
    await db.persist();
    // Each file (state, index) and the digest of its last write (which lets openDb skip the full check).
    expect((await fs.readdir(dir)).sort()).toEqual(['waptdb.index.sqlite', 'waptdb.index.sqlite.sha256', 'waptdb.sqlite', 'waptdb.sqlite.sha256']);
    db.close();
  });

  it('concurrent persists are written in call order (the last state wins)', async () => {
    const db = await openDb(dbPath);
    db.params.set('k', 'first');
    const p1 = db.persist();
    db.params.set('k', 'second');
    const p2 = db.persist();
    await Promise.all([p1, p2]);
    db.close();
    const again = await openDb(dbPath);
    expect(again.params.get('k')).toBe('second');
    again.close();
  });

  it('a crash between write and rename: the stale temp file is removed at open, the last good state loads', async () => {
    const db = await openDb(dbPath);
    db.params.set('state', 'good');
    await db.persist();
    db.close();
    const stale = `${dbPath}.tmp-${await deadPid()}-0badc0de`;
    await fs.writeFile(stale, 'half-written garbage');
    const live = `${dbPath}.tmp-${process.ppid}-cafe1234`; // a live writer's temp is not ours to remove
    await fs.writeFile(live, 'in progress');
    const warnings: string[] = [];
    const again = await openDb(dbPath, { onWarning: (m) => warnings.push(m) });
    expect(again.params.get('state')).toBe('good');
    await expect(fs.stat(stale)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await fs.readFile(live, 'utf8')).toBe('in progress');
    expect(warnings).toEqual([expect.stringContaining(stale)]);
    again.close();
  });

  it('persist where dbdir cannot be created (a file is in the way) → DB_ERROR, no temp file left', async () => {
    const db = await openDb(path.join(dir, 'sub', 'waptdb.sqlite'));
    db.params.set('a', '1');
    await fs.writeFile(path.join(dir, 'sub'), 'x');
    await expect(db.persist()).rejects.toMatchObject({ code: 'DB_ERROR' });
    expect(await fs.readdir(dir)).toEqual(['sub']);
    db.close();
  });

  it('a DB path under a regular file → DB_ERROR at open (not DB_CORRUPT, nothing moved)', async () => {
    await fs.writeFile(path.join(dir, 'file'), 'x');
    await expect(openDb(path.join(dir, 'file', 'waptdb.sqlite'))).rejects.toMatchObject({ code: 'DB_ERROR' });
    expect(await fs.readdir(dir)).toEqual(['file']);
  });

  it('a DB from a newer wapt-get (user_version above ours) → DB_ERROR and the file is left untouched', async () => {
    const db = await openDb(dbPath);
    await db.persist();
    db.close();
    const bytes = await fs.readFile(dbPath);
    bytes.writeUInt32BE(SCHEMA_VERSION + 5, 60); // SQLite header: user_version at offset 60
    await fs.writeFile(dbPath, bytes);
    await expect(openDb(dbPath)).rejects.toMatchObject({ code: 'DB_ERROR', message: expect.stringContaining('newer') });
    expect(await fs.readFile(dbPath)).toEqual(bytes);
    expect((await fs.readdir(dir)).sort()).toEqual(['waptdb.index.sqlite', 'waptdb.index.sqlite.sha256', 'waptdb.sqlite', 'waptdb.sqlite.sha256']);
  });
});

describe('installed table (W-G2 statuses)', () => {
  it('exports every W-G2 status', () => {
    expect([...INSTALL_STATUSES]).toEqual(['INIT', 'DOWNLOAD', 'RUNNING', 'OK', 'ERROR', 'UNKNOWN', 'UPGRADING', 'POSTPONED', 'NEED-UPGRADE']);
  });

  it('upsert keeps stored fields that the update leaves out', async () => {
    const db = await openDb(dbPath);
    db.installed.upsert({ package: 'p', version: '1', explicit_by: 'bob', install_params: { a: 1 } });
    const row = db.installed.upsert({ package: 'p', version: '2', install_status: 'OK' });
    expect(row).toMatchObject({ version: '2', install_status: 'OK', explicit_by: 'bob', install_params: { a: 1 } });
    expect(db.installed.get('p')).toEqual(row);
    db.close();
  });

  it('setStatus changes status and the given fields only', async () => {
    const db = await openDb(dbPath);
    db.installed.upsert({ package: 'p', version: '1', install_status: 'RUNNING', pid: 12 });
    db.installed.setStatus('p', 'ERROR', { error_code: 'ERR_EXIT_CODE', install_output: 'boom', pid: null });
    expect(db.installed.get('p')).toMatchObject({ install_status: 'ERROR', error_code: 'ERR_EXIT_CODE', install_output: 'boom', pid: null, version: '1' });
    db.close();
  });

  it('setStatus of a package that is not installed → NOT_INSTALLED', async () => {
    const db = await openDb(dbPath);
    let err: unknown;
    try {
      db.installed.setStatus('ghost', 'OK');
    } catch (e) {
      err = e;
    }
    expect(isWaptError(err, 'NOT_INSTALLED')).toBe(true);
    db.close();
  });

  it('remove reports whether the row existed', async () => {
    const db = await openDb(dbPath);
    db.installed.upsert({ package: 'p', version: '1' });
    expect(db.installed.remove('p')).toBe(true);
    expect(db.installed.remove('p')).toBe(false);
    expect(db.installed.get('p')).toBeUndefined();
    db.close();
  });

  it('persist with 10,000 installed rows (timing reported)', async () => {
    const db = await openDb(dbPath);
    db.transaction(() => {
      for (let i = 0; i < 10_000; i++) {
        db.installed.upsert({ package: `tis-p${i}`, version: '1.0-1', install_status: 'OK', install_output: 'done '.repeat(20) });
      }
    });
    const t0 = performance.now();
    await db.persist();
    const ms = performance.now() - t0;
    const size = (await fs.stat(dbPath)).size;
    console.log(`persist of 10,000 installed rows: ${ms.toFixed(1)} ms, ${(size / 1024).toFixed(0)} KiB`);
    db.close();
    const again = await openDb(dbPath);
    expect(again.installed.list()).toHaveLength(10_000);
    again.close();
  });
});

describe('available table (W-F3 index per repository)', () => {
  it('replaceRepo with 10,000 rows is one transaction (timing reported) and replaces only that repo', async () => {
    const db = await openDb(dbPath);
    db.available.replaceRepo('other', [entry(1)]);
    const rows = Array.from({ length: 10_000 }, (_, i) => entry(i));
    const t0 = performance.now();
    expect(db.available.replaceRepo('main', rows)).toBe(10_000);
    console.log(`replaceRepo of 10,000 rows: ${(performance.now() - t0).toFixed(1)} ms`);
    expect(db.available.count('main')).toBe(10_000);
    expect(db.available.replaceRepo('main', [entry(7), entry(8)])).toBe(2);
    expect(db.available.count()).toBe(3);
    expect(db.available.forPackage('tis-pkg1').map((r) => r.repo)).toEqual(['other']);
    db.close();
  });

  it('a bad row rolls the whole replaceRepo back (the previous index stays)', async () => {
    const db = await openDb(dbPath);
    db.available.replaceRepo('main', [entry(1), entry(2)]);
    const bad = { ...entry(3), control: null } as unknown as AvailableInput; // NOT NULL violated
    expect(() => db.available.replaceRepo('main', [entry(4), bad])).toThrow();
    expect(db.available.all().map((r) => r.package)).toEqual(['tis-pkg1', 'tis-pkg2']);
    db.close();
  });

  it('search matches name or description, case-insensitively, with % and _ taken literally', async () => {
    const db = await openDb(dbPath);
    db.available.replaceRepo('main', [
      entry(1, { package: 'tis-firefox', description: 'Web browser' }),
      entry(2, { package: 'tis-7zip', description: 'Archiver, 100% free' }),
      entry(3, { package: 'tis-vlc', description: 'Media player' }),
    ]);
    expect(db.available.search('BROWSER').map((r) => r.package)).toEqual(['tis-firefox']);
    expect(db.available.search('7zip').map((r) => r.package)).toEqual(['tis-7zip']);
    expect(db.available.search('%').map((r) => r.package)).toEqual(['tis-7zip']);
    expect(db.available.search('tis_').map((r) => r.package)).toEqual([]);
    expect(db.available.search('')).toHaveLength(3);
    db.close();
  });
});

describe('transactions, repos, log', () => {
  it('a nested transaction that throws is undone without undoing the outer one', async () => {
    const db = await openDb(dbPath);
    db.transaction(() => {
      db.params.set('outer', '1');
      expect(() =>
        db.transaction(() => {
          db.params.set('inner', '1');
          throw new Error('inner fails');
        }),
      ).toThrow('inner fails');
    });
    expect(db.params.get('outer')).toBe('1');
    expect(db.params.get('inner')).toBeUndefined();
    db.close();
  });

  it('an async transaction callback is refused and rolled back', async () => {
    const db = await openDb(dbPath);
    expect(() =>
      db.transaction(() => {
        db.params.set('x', '1');
        return Promise.resolve();
      }),
    ).toThrow('synchronous');
    expect(db.params.get('x')).toBeUndefined();
    db.close();
  });

  it('repos.put updates only the given fields (rollback counter kept)', async () => {
    const db = await openDb(dbPath);
    db.repos.put({ name: 'main', url: 'https://a', index_version: 5, index_signed: true });
    db.repos.put({ name: 'main', url: 'https://a', last_update: '2024-01-01', packages_count: 12 });
    expect(db.repos.get('main')).toMatchObject({ index_version: 5, index_signed: true, last_update: '2024-01-01', packages_count: 12 });
    expect(db.repos.list().map((r) => r.name)).toEqual(['main']);
    db.close();
  });

  it('log.forPackage keeps the newest entries in order, prune bounds the table', async () => {
    const db = await openDb(dbPath);
    for (let i = 0; i < 5; i++) db.log.append('info', `m${i}`, 'p');
    db.log.append('error', 'other', 'q');
    expect(db.log.forPackage('p', 2).map((r) => r.message)).toEqual(['m3', 'm4']);
    expect(db.log.prune(3)).toBe(3);
    expect(db.log.forPackage('p').map((r) => r.message)).toEqual(['m3', 'm4']);
    db.close();
  });

  it('sessions: record, list per user, forget a package for all users', async () => {
    const db = await openDb(dbPath);
    db.sessions.record('alice', 'a', '1');
    db.sessions.record('alice', 'b', '1');
    db.sessions.record('bob', 'a', '2');
    expect(db.sessions.forUser('alice').map((r) => r.package)).toEqual(['a', 'b']);
    expect(db.sessions.forgetPackage('a')).toBe(2);
    expect(db.sessions.get('bob', 'a')).toBeUndefined();
    db.close();
  });
});
