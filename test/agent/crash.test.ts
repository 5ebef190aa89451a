// kill -9 of the real CLI at each step of an install (download, extract, hook, staggered moments)
// and two concurrent runs. After a kill the DB opens, the next run reports and resolves
// the RUNNING leftover (ERROR, ERR_INTERRUPTED) and the following upgrade finishes the job.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanupPki } from '../helpers/pki.js';
import { collect, makeAgentEnv, waitForFile, type AgentEnv } from '../helpers/agent-env.js';

let w: AgentEnv;
let tmp: string;

/** install() writes `<name>.started` (holding its pid), waits for `<name>.go` when asked, then `<name>.done`. */
const gated = (name: string) => `import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
export async function install(h) {
  await writeFile(h.targetPath('/${name}.started'), String(process.pid));
  while (!existsSync(h.targetPath('/${name}.go'))) await new Promise((r) => setTimeout(r, 50));
  await writeFile(h.targetPath('/${name}.done'), 'done');
}
export async function uninstall(h) {}
`;

/** install() starts a long `sleep` in its process group, records its pid, then waits for ever. */
const spawnsSleeper = (name: string) => `import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
export async function install(h) {
  const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
  await writeFile(h.targetPath('/${name}.sleeper'), String(sleeper.pid));
  await new Promise(() => {});
}
export async function uninstall(h) {}
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // a zombie still answers kill(0); it is dead for our purpose
  return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

beforeAll(async () => {
  // 1 MiB/s: the 3 MiB package below takes ~3 s to download, long enough to kill mid-way
  w = await makeAgentEnv({ rateLimit: '1m' });
  tmp = path.join(w.dir, 'tmp');
  await mkdir(tmp);
  const many: Record<string, string> = {};
  for (let i = 0; i < 1500; i++) many[`data/f${i}.txt`] = `file ${i}\n`;
  await w.publish(
    { name: 'tis-hook', setup: gated('tis-hook') },
    { name: 'tis-first', setup: gated('tis-first') },
    { name: 'tis-second', setup: gated('tis-second') },
    { name: 'tis-bigdl', setup: gated('tis-bigdl'), files: { 'payload.bin': randomBytes(3 * 1024 * 1024) } },
    { name: 'tis-many', setup: gated('tis-many'), files: many },
    { name: 'tis-db', setup: gated('tis-db') },
    { name: 'tis-orphan', setup: spawnsSleeper('tis-orphan') },
  );
  expect((await w.run(['update'])).code).toBe(0);
});

afterAll(async () => {
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

const env = () => ({ TMPDIR: tmp });
const at = (f: string) => path.join(w.userRoot, f);

async function killNow(child: ChildProcess): Promise<void> {
  const done = collect(child);
  child.kill('SIGKILL');
  expect((await done).signal).toBe('SIGKILL');
}

/** The orphaned hook of a killed run (its own process group) is ended by the test. */
async function killHook(name: string): Promise<void> {
  const pid = Number(await readFile(at(`${name}.started`), 'utf8'));
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

async function row(name: string) {
  const db = await w.db(); // throws DB_CORRUPT if a kill ever damaged it
  try {
    return db.installed.get(name);
  } finally {
    db.close();
  }
}

test('kill -9 during the hook: RUNNING leftover is reported, marked ERR_INTERRUPTED, then retried by upgrade', async () => {
  const child = w.spawn(['install', 'tis-hook'], env());
  await waitForFile(at('tis-hook.started'));
  await killNow(child);
  await killHook('tis-hook');
  expect(await row('tis-hook')).toMatchObject({ install_status: 'RUNNING', pid: child.pid });

  await writeFile(at('tis-hook.go'), '');
  const next = await w.run(['upgrade', '--dry-run'], { env: env() });
  expect(next.stderr).not.toContain('killed run'); // a dry run resolves nothing
  const up = await w.run(['upgrade'], { json: true, env: env() });
  expect(up.stderr).toContain('tis-hook 1.0-1 was left RUNNING by a killed run');
  expect(JSON.parse(up.stdout).leftovers).toEqual([{ package: 'tis-hook', version: '1.0-1', status: 'RUNNING', pid: child.pid, action: 'install' }]);
  expect(JSON.parse(up.stdout).results).toEqual([{ package: 'tis-hook', version: '1.0-1', action: 'reinstall', status: 'OK' }]);
  expect(await row('tis-hook')).toMatchObject({ install_status: 'OK', error_code: null });
  const db = await w.db();
  const history = db.log.forPackage('tis-hook').map((l) => l.message);
  db.close();
  expect(history.some((m) => m.startsWith('interrupted: the wapt-get run (pid ' + child.pid))).toBe(true);
  expect(await readdir(tmp)).toEqual([]); // the killed run's temp dir was swept
});

test('kill -9 during the hook: what the hook started outlives wapt-get, and the next run kills that process group', async () => {
  const child = w.spawn(['install', 'tis-orphan'], env());
  await waitForFile(at('tis-orphan.sleeper'));
  await killNow(child);
  const sleeper = Number(await readFile(at('tis-orphan.sleeper'), 'utf8'));
  expect(alive(sleeper)).toBe(true);

  const next = await w.run(['forget', 'tis-orphan'], { env: env() });
  expect(next.code).toBe(0);
  expect(next.stderr).toMatch(/killed the setup hook \(process group \d+\) left running by a killed run/);
  expect(alive(sleeper)).toBe(false);
  expect(await row('tis-orphan')).toBeUndefined();
  expect(await readdir(tmp)).toEqual([]);
});

test('kill -9 during the download: nothing recorded, the next run resumes the .part and installs', async () => {
  await writeFile(at('tis-bigdl.go'), '');
  const child = w.spawn(['install', 'tis-bigdl'], env());
  const part = async () => (await readdir(w.cacheDir).catch(() => [] as string[])).find((f) => f.startsWith('tis-bigdl_') && f.endsWith('.part'));
  const end = Date.now() + 20_000;
  while (!(await part()) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 500)); // some bytes on disk
  await killNow(child);
  expect(await part()).toBeDefined();
  expect(await row('tis-bigdl')).toBeUndefined();

  const again = await w.run(['install', 'tis-bigdl'], { json: true, env: env() });
  expect(again.code).toBe(0);
  expect(existsSync(at('tis-bigdl.done'))).toBe(true);
  const log = await w.nginx.readAccessLog();
  expect(log.some((l) => l.includes('/tis-bigdl_') && l.includes(' 206 ') && /range=bytes=\d+-/.test(l))).toBe(true);
});

test('kill -9 during extraction: the DB keeps the previous state, the temp dir is swept, install works', async () => {
  await writeFile(at('tis-many.go'), '');
  const child = w.spawn(['install', 'tis-many'], env());
  const end = Date.now() + 20_000;
  let extracting = false;
  while (!extracting && Date.now() < end) {
    for (const d of await readdir(tmp)) if (existsSync(path.join(tmp, d, 'pkg', 'data'))) extracting = true;
    if (!extracting) await new Promise((r) => setTimeout(r, 2));
  }
  expect(extracting).toBe(true);
  await killNow(child);
  expect(await row('tis-many')).toBeUndefined(); // RUNNING is written only after extraction
  expect((await readdir(tmp)).length).toBe(1);
  const again = await w.run(['install', 'tis-many'], { env: env() });
  expect(again.code).toBe(0);
  expect(await readdir(tmp)).toEqual([]);
  expect((await row('tis-many'))!.install_status).toBe('OK');
});

test('kill -9 at staggered moments of install --force: the DB always opens and holds the previous OK row or RUNNING owned by the killed run', async () => {
  await writeFile(at('tis-db.go'), '');
  expect((await w.run(['install', 'tis-db'], { env: env() })).code).toBe(0); // the previous state: OK
  let killed = 0;
  for (const delay of [150, 300, 450, 600, 800]) {
    const child = w.spawn(['install', '--force', 'tis-db'], env());
    const done = collect(child); // listening from the start: a fast run may end before the kill
    await new Promise((r) => setTimeout(r, delay));
    child.kill('SIGKILL');
    const ended = await done;
    const r = await row('tis-db'); // throws DB_CORRUPT if a kill ever damaged the file
    if (ended.signal !== 'SIGKILL') {
      // the run finished before the signal: its result is the complete new state
      expect(ended.code).toBe(0);
      expect(r).toMatchObject({ install_status: 'OK', pid: null });
      continue;
    }
    killed++;
    // persist() is temp + rename: the file is the state before or after one write, never between
    if (r!.install_status === 'RUNNING') expect(r).toMatchObject({ pid: child.pid });
    else expect(r).toMatchObject({ install_status: 'OK', pid: null });
    // the next write run resolves it (ERR_INTERRUPTED) before anything else
    expect((await w.run(['install', '--force', 'tis-db'], { env: env() })).code).toBe(0);
    expect(await row('tis-db')).toMatchObject({ install_status: 'OK', pid: null });
  }
  expect(killed).toBeGreaterThanOrEqual(3); // the rounds did kill runs, not only watch them end
  const up = await w.run(['install', '--force', 'tis-db'], { json: true, env: env() });
  expect(up.code).toBe(0);
  expect(await row('tis-db')).toMatchObject({ install_status: 'OK', pid: null });
}, 180_000);

test('two concurrent runs: the second waits, then fails LOCK_BUSY (exit 5) with --lock-timeout 1', async () => {
  const first = w.spawn(['install', 'tis-first'], env());
  const firstDone = collect(first);
  await waitForFile(at('tis-first.started'));
  const second = await w.run(['install', '--lock-timeout', '1', 'tis-second'], { env: env() });
  expect(second.code).toBe(5);
  expect(second.stderr).toContain('waiting for another wapt-get');
  expect(second.stderr).toContain('LOCK_BUSY');
  // a patient second run gets the lock once the first ends
  const patient = collect(w.spawn(['install', '--lock-timeout', '30', 'tis-second'], env()));
  await writeFile(at('tis-second.go'), '');
  await writeFile(at('tis-first.go'), '');
  expect((await firstDone).code).toBe(0);
  expect((await patient).code).toBe(0);
  expect((await row('tis-second'))!.install_status).toBe('OK');
});
