// Issue 9, case 3: the disk holding the DB fills up during `install`, before the hook
// runs or because the hook itself filled it. The run ends with DB_ERROR (exit 8) and one
// valid JSON document, never a stack trace; the row on disk tells the truth, never a
// RUNNING row left behind by a run that finished.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { cleanupPki } from '../helpers/pki.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { openDb } from '../../src/agent/db/index.js';
import { mountTmpfs, type Tmpfs } from './tmpfs.js';

let w: AgentEnv;
let fs: Tmpfs;
let dbdir: string;
let root: string;

/** A hook that writes into the target root until the filesystem is full, then returns or throws. */
const filler = (then: string) => `import { openSync, writeSync, closeSync } from 'node:fs';
export async function install(h) {
  const fd = openSync(h.targetPath('/fill-' + h.ctx.package + '.bin'), 'a');
  const b = Buffer.alloc(4096);
  try { for (;;) writeSync(fd, b); } catch (e) { if (e.code !== 'ENOSPC') throw e; }
  for (let n = 512; n >= 1; n = Math.floor(n / 2)) { try { for (;;) writeSync(fd, b, 0, n); } catch {} }
  closeSync(fd);
  ${then}
}
export async function uninstall(h) {}
`;

beforeAll(async () => {
  w = await makeAgentEnv();
  fs = mountTmpfs(path.join(w.dir, 'small'), '3m');
  dbdir = path.join(fs.dir, 'db');
  root = path.join(fs.dir, 'root');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(root, { recursive: true });
  await w.configure({ dbdir, user_mode_root: root });
  await w.publish(
    { name: 'tis-plain' },
    { name: 'tis-fills-ok', setup: filler("h.log('filled the disk, returning');") },
    { name: 'tis-fills-throws', setup: filler("throw new Error('the disk is full');") },
  );
  const r = await w.run(['update']);
  expect(r.code).toBe(0);
}, 60_000);

afterAll(async () => {
  fs?.umount();
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

async function rowOnDisk(name: string) {
  const db = await openDb(path.join(dbdir, 'waptdb.sqlite'));
  try {
    return db.installed.get(name) ?? null;
  } finally {
    db.close();
  }
}

function expectNoCrash(r: { stderr: string }) {
  expect(r.stderr).not.toMatch(/UnhandledPromiseRejection|\n\s+at .*\.js:\d+/);
}

test('case 3: disk full before install → DB_ERROR exit 8, one JSON error naming dbdir, nothing ran', async () => {
  fs.fill(16 * 1024); // room for the lock file, not for a copy of the DB
  try {
    const r = await w.run(['install', 'tis-plain'], { json: true });
    expectNoCrash(r);
    expect(r.code).toBe(8);
    const res = JSON.parse(r.stdout).results[0];
    expect(res).toMatchObject({ package: 'tis-plain', status: 'ERROR', error_code: 'DB_ERROR' });
    expect(res.message).toContain(dbdir);
    expect(res.message).toContain('was not installed');
  } finally {
    fs.unfill();
  }
  expect(await rowOnDisk('tis-plain')).toBeNull(); // nothing was done, nothing claims otherwise
  const again = await w.run(['install', 'tis-plain'], { json: true });
  expect(again.code).toBe(0);
  expect((await rowOnDisk('tis-plain'))!.install_status).toBe('OK');
}, 60_000);

test('case 3: the hook fills the disk and returns → the row says OK, never RUNNING', async () => {
  try {
    const r = await w.run(['install', 'tis-fills-ok'], { json: true });
    expectNoCrash(r);
    expect(existsSync(path.join(root, 'fill-tis-fills-ok.bin'))).toBe(true);
    const doc = JSON.parse(r.stdout);
    expect(doc.results[0]).toMatchObject({ package: 'tis-fills-ok', status: 'OK' });
    expect(r.code).toBe(0);
    // with the disk still full, the row on disk already holds the truth
    expect(await rowOnDisk('tis-fills-ok')).toMatchObject({ install_status: 'OK', pid: null });

    // the next write run cannot record anything: it stops with DB_ERROR before any hook
    const next = await w.run(['install', 'tis-plain', '--force'], { json: true });
    expectNoCrash(next);
    expect(next.code).toBe(8);
    expect(JSON.parse(next.stdout).results[0]).toMatchObject({ package: 'tis-plain', status: 'ERROR', error_code: 'DB_ERROR' });
  } finally {
    fs.unfill();
  }
  const { rm } = await import('node:fs/promises');
  await rm(path.join(root, 'fill-tis-fills-ok.bin'), { force: true });
  const list = await w.run(['list'], { json: true });
  expect(list.code).toBe(0);
  expect(JSON.stringify(JSON.parse(list.stdout))).toContain('tis-fills-ok');
  expect((await rowOnDisk('tis-fills-ok'))!.install_status).toBe('OK');
}, 60_000);

test('case 3: the hook fills the disk and throws → the row says ERROR ERR_HOOK_FAILED, never RUNNING', async () => {
  try {
    const r = await w.run(['install', 'tis-fills-throws'], { json: true });
    expectNoCrash(r);
    const doc = JSON.parse(r.stdout);
    expect(doc.results[0]).toMatchObject({ package: 'tis-fills-throws', status: 'ERROR', error_code: 'ERR_HOOK_FAILED' });
    expect(r.code).toBe(6);
    expect(await rowOnDisk('tis-fills-throws')).toMatchObject({ install_status: 'ERROR', error_code: 'ERR_HOOK_FAILED', pid: null });
  } finally {
    fs.unfill();
    const { rm } = await import('node:fs/promises');
    await rm(path.join(root, 'fill-tis-fills-throws.bin'), { force: true });
  }
}, 60_000);
