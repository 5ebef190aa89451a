// Issue 9, case 10: `update` whose DB write fails for lack of space. The repository is
// reported FAILED with the previous index kept, and every count of the summary comes from
// what is on disk, not from the new index that was only ever held in memory.
import path from 'node:path';
import { cleanupPki } from '../helpers/pki.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { openDb } from '../../src/agent/db/index.js';
import { mountTmpfs, type Tmpfs } from './tmpfs.js';

let w: AgentEnv;
let fs: Tmpfs;
let dbPath: string;

beforeAll(async () => {
  w = await makeAgentEnv();
  fs = mountTmpfs(path.join(w.dir, 'small'), '2m');
  await w.configure({ dbdir: path.join(fs.dir, 'db') });
  dbPath = path.join(fs.dir, 'db', 'waptdb.sqlite');
  await w.publish({ name: 'tis-one' }, { name: 'tis-two' }, { name: 'tis-three' });
  const first = await w.run(['update'], { json: true });
  expect(first.code).toBe(0);
  expect(JSON.parse(first.stdout).packages).toBe(3);
}, 60_000);

afterAll(async () => {
  fs?.umount();
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

async function onDisk(): Promise<number> {
  const db = await openDb(dbPath);
  try {
    return db.available.count();
  } finally {
    db.close();
  }
}

test('case 10: ENOSPC on the DB write of update → FAILED, previous index kept, summary counts what was persisted', async () => {
  await w.publish({ name: 'tis-four' });
  fs.fill(16 * 1024); // room for the lock, not for a new copy of the DB
  try {
    const text = await w.run(['update']);
    expect(text.code).toBe(8);
    expect(text.stdout + text.stderr).toMatch(/FAILED \[DB_ERROR\].*previous index kept: 3 packages/);
    expect(text.stdout).toMatch(/^3 packages available/m);
    expect(text.stdout).not.toMatch(/4 packages available/);

    const json = await w.run(['update'], { json: true });
    expect(json.code).toBe(8);
    const doc = JSON.parse(json.stdout);
    expect(doc.error.code).toBe('DB_ERROR');
    expect(doc.repos[0]).toMatchObject({ status: 'failed', packages: 3 });
    expect(doc.packages).toBe(3);
    expect(await onDisk()).toBe(3);
  } finally {
    fs.unfill();
  }
  const again = await w.run(['update'], { json: true });
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout).packages).toBe(4);
  expect(await onDisk()).toBe(4);
}, 60_000);
