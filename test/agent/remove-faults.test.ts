// Issue 9 cases 1 and 2: a removal the admin asked for is never silently reversed. The real
// CLI as a child against a real nginx repository, real kill -9 of the CLI while its real
// uninstall() child runs; then what the files, `list`, `show` and `upgrade --dry-run` say.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanupPki } from '../helpers/pki.js';
import { collect, makeAgentEnv, waitForFile, type AgentEnv } from '../helpers/agent-env.js';

let w: AgentEnv;
let tmp: string;

/**
 * install() writes /opt/<name>/app.txt. uninstall() throws when <name>.fail exists. When
 * <name>.slow exists it starts an uninstaller (a shell, like msiexec would be) that waits
 * for <name>.go, then deletes the files and writes its pid to <name>.uninstall-finished;
 * the uninstaller's pid goes to <name>.uninstall-started. Otherwise it deletes the files itself.
 */
const removable = (name: string) => `import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
export async function install(h) {
  await mkdir(h.targetPath('/opt/${name}'), { recursive: true });
  await writeFile(h.targetPath('/opt/${name}/app.txt'), 'app');
}
export async function uninstall(h) {
  if (existsSync(h.targetPath('/${name}.fail'))) throw new Error('the uninstaller failed on purpose');
  const dir = h.targetPath('/opt/${name}');
  const finished = h.targetPath('/${name}.uninstall-finished');
  if (existsSync(h.targetPath('/${name}.slow'))) {
    const go = h.targetPath('/${name}.go');
    const p = spawn('sh', ['-c', 'while [ ! -e "$3" ]; do sleep 0.1; done; rm -rf "$1"; echo $$ > "$2"', 'sh', dir, finished, go], { stdio: 'ignore' });
    await writeFile(h.targetPath('/${name}.uninstall-started'), String(p.pid));
    await new Promise((r) => p.on('exit', r));
    return;
  }
  await writeFile(h.targetPath('/${name}.uninstall-started'), String(process.pid));
  await rm(dir, { recursive: true, force: true });
  await writeFile(finished, String(process.pid));
}
`;

beforeAll(async () => {
  w = await makeAgentEnv();
  tmp = path.join(w.dir, 'tmp');
  await mkdir(tmp);
  await w.publish({ name: 'tis-slowrm', setup: removable('tis-slowrm') }, { name: 'tis-failrm', setup: removable('tis-failrm') });
  expect((await w.run(['update'])).code).toBe(0);
});

afterAll(async () => {
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

const env = () => ({ TMPDIR: tmp });
const at = (f: string) => path.join(w.userRoot, f);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

async function killNow(child: ChildProcess): Promise<void> {
  const done = collect(child);
  child.kill('SIGKILL');
  expect((await done).signal).toBe('SIGKILL');
}

async function row(name: string) {
  const db = await w.db();
  try {
    return db.installed.get(name);
  } finally {
    db.close();
  }
}

async function history(name: string): Promise<string[]> {
  const db = await w.db();
  try {
    return db.log.forPackage(name).map((l) => l.message);
  } finally {
    db.close();
  }
}

async function listed(name: string) {
  const r = await w.run(['list'], { json: true });
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout).installed as { package: string }[]).find((p) => p.package === name);
}

test('issue 9 case 1: kill -9 during remove: the orphaned uninstaller is killed first, the removal stays a removal and completes; never re-installed', async () => {
  expect((await w.run(['install', 'tis-slowrm'], { env: env() })).code).toBe(0);
  expect(existsSync(at('opt/tis-slowrm/app.txt'))).toBe(true);
  await writeFile(at('tis-slowrm.slow'), '');

  const child = w.spawn(['remove', 'tis-slowrm'], env());
  await waitForFile(at('tis-slowrm.uninstall-started'));
  await killNow(child);
  const orphan = Number(await readFile(at('tis-slowrm.uninstall-started'), 'utf8'));
  expect(alive(orphan)).toBe(true); // the uninstaller outlives the killed CLI (the hook's process group)
  await rm(at('tis-slowrm.uninstall-started'));
  await rm(at('tis-slowrm.slow'));

  // before any recovery: the row says a removal is in flight, and a dry run plans the removal
  expect(await row('tis-slowrm')).toMatchObject({ install_status: 'RUNNING', pending_action: 'remove', pid: child.pid });
  expect(await listed('tis-slowrm')).toMatchObject({ install_status: 'RUNNING', pending_action: 'remove' });
  const dry = await w.run(['upgrade', '--dry-run'], { json: true, env: env() });
  expect(dry.code).toBe(0);
  expect(JSON.parse(dry.stdout).plan.order).toEqual([{ action: 'remove', package: 'tis-slowrm', from_version: '1.0-1', reason: 'retry pending removal' }]);

  // the cron upgrade: kills the orphan before anything else, then runs the removal again
  const up = await w.run(['upgrade'], { json: true, env: env() });
  expect(up.code).toBe(0);
  expect(up.stderr).toMatch(/killed the setup hook \(process group \d+\) left running by a killed run/);
  expect(up.stderr).toContain('tis-slowrm 1.0-1 was being removed by a killed run');
  expect(alive(orphan)).toBe(false);
  const out = JSON.parse(up.stdout);
  expect(out.leftovers).toEqual([{ package: 'tis-slowrm', version: '1.0-1', status: 'RUNNING', pid: child.pid, action: 'remove' }]);
  expect(out.results).toEqual([{ package: 'tis-slowrm', version: '1.0-1', action: 'remove', status: 'REMOVED' }]);

  // the orphan never gets to delete anything after the decision: it was killed first
  await writeFile(at('tis-slowrm.go'), '');
  await new Promise((r) => setTimeout(r, 1000));
  expect(Number((await readFile(at('tis-slowrm.uninstall-finished'), 'utf8')).trim())).not.toBe(orphan);
  expect(existsSync(at('opt/tis-slowrm'))).toBe(false);
  expect(await row('tis-slowrm')).toBeUndefined();
  expect(await listed('tis-slowrm')).toBeUndefined();
  expect(JSON.parse((await w.run(['upgrade', '--dry-run'], { json: true })).stdout).plan.order).toEqual([]);
  const log = await history('tis-slowrm');
  // one install (the admin's), never a second one after the interrupted removal
  expect(log.filter((m) => /^(install|reinstall|upgrade) /.test(m))).toEqual([
    expect.stringMatching(/^install tis-slowrm 1\.0-1 started/),
    'install tis-slowrm 1.0-1 OK',
  ]);
  expect(log.some((m) => m.startsWith(`interrupted: the wapt-get run (pid ${child.pid}) that was removing tis-slowrm`))).toBe(true);
  expect(await readdir(tmp)).toEqual([]);
}, 60_000);

test('issue 9 case 2: uninstall() fails, then cron upgrade: the row stays a pending removal (list, show), upgrade retries the removal, never installs; remove finishes it', async () => {
  expect((await w.run(['install', 'tis-failrm'], { env: env() })).code).toBe(0);
  await writeFile(at('tis-failrm.fail'), '');

  const rm1 = await w.run(['remove', 'tis-failrm'], { json: true, env: env() });
  expect(rm1.code).toBe(6);
  expect(JSON.parse(rm1.stdout).results).toEqual([
    expect.objectContaining({ package: 'tis-failrm', action: 'remove', status: 'ERROR', error_code: 'ERR_HOOK_FAILED' }),
  ]);
  expect(await row('tis-failrm')).toMatchObject({ install_status: 'ERROR', pending_action: 'remove', error_code: 'ERR_HOOK_FAILED', pid: null });
  expect(await listed('tis-failrm')).toMatchObject({ install_status: 'ERROR', pending_action: 'remove', error_code: 'ERR_HOOK_FAILED' });
  expect((await w.run(['list'])).stdout).toMatch(/tis-failrm +1\.0-1 +ERROR \[ERR_HOOK_FAILED\] \(pending removal\)/);
  const show = await w.run(['show', 'tis-failrm'], { json: true });
  expect(JSON.parse(show.stdout).installed).toMatchObject({ install_status: 'ERROR', pending_action: 'remove' });

  // what upgrade would do is the removal, in every verb that answers it
  const dry = JSON.parse((await w.run(['upgrade', '--dry-run'], { json: true })).stdout);
  expect(dry.plan.order).toEqual([{ action: 'remove', package: 'tis-failrm', from_version: '1.0-1', reason: 'retry pending removal' }]);
  const check = await w.run(['check-upgrades'], { json: true });
  expect(check.code).toBe(100);
  expect(JSON.parse(check.stdout).pending).toEqual([expect.objectContaining({ package: 'tis-failrm', action: 'remove', to: null })]);

  // cron upgrade while the uninstaller still fails: still a pending removal, nothing re-installed
  const up = await w.run(['upgrade'], { json: true, env: env() });
  expect(up.code).toBe(6);
  expect(JSON.parse(up.stdout).results).toEqual([expect.objectContaining({ package: 'tis-failrm', action: 'remove', status: 'ERROR' })]);
  expect(await row('tis-failrm')).toMatchObject({ install_status: 'ERROR', pending_action: 'remove' });
  expect((await history('tis-failrm')).filter((m) => /^(reinstall|upgrade) /.test(m))).toEqual([]);

  // `remove` retries it; once uninstall() works the row goes
  await rm(at('tis-failrm.fail'));
  const rm2 = await w.run(['remove', 'tis-failrm'], { json: true, env: env() });
  expect(rm2.code).toBe(0);
  expect(JSON.parse(rm2.stdout).results).toEqual([{ package: 'tis-failrm', version: '1.0-1', action: 'remove', status: 'REMOVED' }]);
  expect(existsSync(at('opt/tis-failrm'))).toBe(false);
  expect(await row('tis-failrm')).toBeUndefined();
}, 60_000);

test('issue 9 case 2: an explicit install of a package whose removal is pending re-installs it (the admin changed their mind)', async () => {
  expect((await w.run(['install', 'tis-failrm'], { env: env() })).code).toBe(0);
  await writeFile(at('tis-failrm.fail'), '');
  expect((await w.run(['remove', 'tis-failrm'], { env: env() })).code).toBe(6);
  await rm(at('tis-failrm.fail'));
  const again = await w.run(['install', 'tis-failrm'], { json: true, env: env() });
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout).results).toEqual([{ package: 'tis-failrm', version: '1.0-1', action: 'reinstall', status: 'OK' }]);
  expect(await row('tis-failrm')).toMatchObject({ install_status: 'OK', pending_action: null });
  expect(JSON.parse((await w.run(['upgrade', '--dry-run'], { json: true })).stdout).plan.order).toEqual([]);
}, 60_000);
