// A damaged local DB is never overwritten or deleted: it is moved to
// <path>.corrupt-<timestamp> with its bytes intact, the installed table is rebuilt from
// the side records (<dbdir>/installed/<name>.json), then DB_CORRUPT (or, for `update`,
// a loud warning and the rebuilt DB, reported by the verb at its end).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { isWaptError, WaptError } from '../../src/errors.js';
import { openDb } from '../../src/agent/db/index.js';
import { moveAside } from '../../src/agent/db/files.js';
import { cleanupPki } from '../helpers/pki.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';

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
  // in its place: a sound DB holding what the side records said was installed
  const rebuilt = await openDb(dbPath);
  expect(rebuilt.installed.list().map((r) => r.package)).toEqual(we.detail.rebuilt);
  rebuilt.close();
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

  it('recreateCorrupt moves the file aside, warns loudly naming both paths, and goes on with the rebuilt DB', async () => {
    const junk = randomBytes(4096);
    await fs.writeFile(dbPath, junk);
    const warnings: string[] = [];
    const db = await openDb(dbPath, { recreateCorrupt: true, onWarning: (m) => m.includes('corrupt') && warnings.push(m) });
    expect(db.installed.list()).toEqual([]);
    // no side records at all: which packages were installed is unknown, and that is said
    expect(db.recovery).toMatchObject({ rebuilt: [], lost: [expect.stringContaining('does not exist')] });
    db.params.set('fresh', 'yes');
    await db.persist();
    db.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^WARNING: .*corrupt.*NOT recovered/);
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

describe('issue 9 case 7: installed records survive a corrupt DB (side records, like dpkg info/)', () => {
  const sideDir = () => path.join(dir, 'installed');

  async function installedDb(names: string[]): Promise<void> {
    const db = await openDb(dbPath);
    db.transaction(() => {
      for (const n of names)
        db.installed.upsert({
          package: n,
          version: '1.0-1',
          install_status: 'OK',
          setup_code: 'export async function uninstall() {}',
          uninstall_data: { files: [`/opt/${n}`] },
        });
    });
    await db.persist();
    db.close();
  }

  it('each installed row has its own 0600 record in a 0700 dir, kept in step with the DB on every persist', async () => {
    await installedDb(['tis-a', 'tis-b']);
    expect((await fs.stat(sideDir())).mode & 0o777).toBe(0o700);
    expect((await fs.readdir(sideDir())).sort()).toEqual(['tis-a.json', 'tis-b.json']);
    for (const f of ['tis-a.json', 'tis-b.json']) expect((await fs.stat(path.join(sideDir(), f))).mode & 0o777).toBe(0o600);
    const rec = JSON.parse(await fs.readFile(path.join(sideDir(), 'tis-a.json'), 'utf8'));
    expect(rec).toMatchObject({ format: 1, package: 'tis-a', row: { version: '1.0-1', uninstall_data: { files: ['/opt/tis-a'] } } });
    const db = await openDb(dbPath);
    db.installed.remove('tis-b');
    db.installed.setStatus('tis-a', 'ERROR', { error_code: 'ERR_HOOK_FAILED' });
    await db.persist();
    db.close();
    expect(await fs.readdir(sideDir())).toEqual(['tis-a.json']);
    expect(JSON.parse(await fs.readFile(path.join(sideDir(), 'tis-a.json'), 'utf8')).row).toMatchObject({
      install_status: 'ERROR',
      error_code: 'ERR_HOOK_FAILED',
    });
  });

  it.each([
    ['zero bytes', async () => Buffer.alloc(0)],
    ['garbage', async () => randomBytes(8192)],
    ['truncated', async () => Buffer.from((await fs.readFile(dbPath)).subarray(0, 3000))],
  ])('corrupt DB (%s): the installed table is rebuilt from the side records, DB_CORRUPT says so', async (_t, bytesOf) => {
    await installedDb(['tis-a', 'tis-b', 'tis-c']);
    const bad = await bytesOf();
    await fs.writeFile(dbPath, bad);
    const { err } = await expectCorrupt(bad);
    expect(err.detail).toMatchObject({ rebuilt: ['tis-a', 'tis-b', 'tis-c'], lost: [] });
    expect(err.message).toMatch(/3 installed package record\(s\) rebuilt from .*installed/);
    const db = await openDb(dbPath); // the rebuilt DB opens on its own from now on
    expect(db.installed.get('tis-b')).toMatchObject({ version: '1.0-1', install_status: 'OK', uninstall_data: { files: ['/opt/tis-b'] } });
    db.close();
  });

  it('a side record that cannot be read is named as NOT recovered (the others come back)', async () => {
    await installedDb(['tis-a', 'tis-b']);
    await fs.writeFile(path.join(sideDir(), 'tis-b.json'), '{"format": 1, "row": ');
    await fs.writeFile(dbPath, randomBytes(4096));
    let err: unknown;
    await openDb(dbPath).then(
      (d) => d.close(),
      (e: unknown) => (err = e),
    );
    expect(isWaptError(err, 'DB_CORRUPT')).toBe(true);
    expect((err as WaptError).detail).toMatchObject({ rebuilt: ['tis-a'], lost: [expect.stringContaining('tis-b.json is unreadable')] });
    expect((err as WaptError).message).toContain('NOT recovered');
  });

  it('the DB_CORRUPT hint names the rebuilt records and never a step that would drop them', () => {
    const e = new WaptError('DB_CORRUPT', 'x');
    expect(e.remedy).toContain('installed/');
    expect(e.remedy).not.toMatch(/rebuild the index part/);
  });
});

describe('issue 9 case 7 through the real CLI (real nginx repository, the README cron line)', () => {
  let w: AgentEnv;
  const setup = (name: string) => `import { mkdir, writeFile } from 'node:fs/promises';
export async function install(h) {
  await mkdir(h.targetPath('/opt/${name}'), { recursive: true });
  await writeFile(h.targetPath('/opt/${name}/app.txt'), 'app');
}
export async function uninstall(h) { await h.removeTree('/opt/${name}'); }
`;

  beforeAll(async () => {
    w = await makeAgentEnv();
    await w.publish({ name: 'tis-keep1', setup: setup('tis-keep1') }, { name: 'tis-keep2', setup: setup('tis-keep2') });
    expect((await w.run(['update'])).code).toBe(0);
    expect((await w.run(['install', 'tis-keep1', 'tis-keep2'])).code).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await w?.stop();
    if (w) cleanupPki(w.pki);
  });

  const installedNames = async () => (JSON.parse((await w.run(['list'], { json: true })).stdout).installed as { package: string }[]).map((p) => p.package);

  it.each([
    ['zero bytes', () => Buffer.alloc(0)],
    ['garbage', () => randomBytes(8192)],
    ['truncated', (good: Buffer) => good.subarray(0, Math.floor(good.length / 2))],
  ])(
    'corrupt DB (%s) under `update && upgrade`: update exits 8 naming the rebuilt packages, list still shows them, upgrade never says "nothing to do" over lost state',
    async (_t, damage) => {
      await fs.writeFile(w.dbPath, damage(await fs.readFile(w.dbPath)));
      const up = await w.run(['update']);
      expect(up.code).toBe(8);
      expect(up.stderr).toMatch(/error \[DB_CORRUPT\] local DB was corrupt .*2 installed package\(s\) rebuilt, index fetched again/);
      expect(up.stderr).not.toMatch(/rebuild the index part/);
      expect(up.stderr).toContain('installed/');
      expect(await installedNames()).toEqual(['tis-keep1', 'tis-keep2']);
      const next = await w.run(['upgrade', '--dry-run'], { json: true });
      expect(next.code).toBe(0);
      expect(JSON.parse(next.stdout).plan.order).toEqual([]); // true now: both installed, the index back
      // the packages can still be removed with their own uninstall() (setup_code came back too)
      expect((await w.run(['remove', 'tis-keep2'])).code).toBe(0);
      expect(await installedNames()).toEqual(['tis-keep1']);
      expect((await w.run(['install', 'tis-keep2'])).code).toBe(0);
    },
    60_000,
  );

  it('corrupt DB seen first by upgrade: exit 8 (DB_CORRUPT), not "nothing to do"; the next update restores the index', async () => {
    await fs.writeFile(w.dbPath, randomBytes(4096));
    const up = await w.run(['upgrade']);
    expect(up.code).toBe(8);
    expect(up.stdout).not.toContain('nothing to do');
    expect(up.stderr).toMatch(/\[DB_CORRUPT\].*2 installed package record\(s\) rebuilt/);
    expect(await installedNames()).toEqual(['tis-keep1', 'tis-keep2']);
    expect((await w.run(['update'])).code).toBe(0);
    expect(JSON.parse((await w.run(['upgrade', '--dry-run'], { json: true })).stdout).plan.order).toEqual([]);
  }, 60_000);
});
