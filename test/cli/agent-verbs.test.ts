// The maintenance verbs through the real CLI: hold/unhold, --dry-run, check-upgrades,
// download-upgrade, clean, forget, audit and session-setup; plus the rights rule.
import { existsSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isWaptError } from '../../src/errors.js';
import { installTarget } from '../../src/agent/install/index.js';
import { cleanupPki } from '../helpers/pki.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';

let w: AgentEnv;

const sessionSetup = (name: string) => `import { appendFile, writeFile } from 'node:fs/promises';
export async function install(h) { await writeFile(h.targetPath('/${name}.txt'), h.ctx.version); h.remember('file', '/${name}.txt'); }
export async function uninstall(h) { await h.removeTree('/${name}.txt'); }
export async function session_setup(h) { await appendFile(h.targetPath('/${name}.sessions'), h.ctx.user + ' ' + h.ctx.version + '\\n'); }
export function audit(h) { return 'WARNING'; }
`;

beforeAll(async () => {
  w = await makeAgentEnv();
  await w.publish(
    { name: 'tis-held', version: '1.0-1' },
    { name: 'tis-free', version: '1.0-1' },
    { name: 'tis-dir', template: 'dir', version: '1.0-1', files: { 'files/a.txt': 'a' } },
    { name: 'tis-sess', version: '1.0-1', setup: sessionSetup('tis-sess') },
  );
  expect((await w.run(['update'])).code).toBe(0);
  expect((await w.run(['install', 'tis-held', 'tis-free', 'tis-dir', 'tis-sess'])).code).toBe(0);
});

afterAll(async () => {
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

async function dbBytes() {
  return readFile(w.dbPath);
}

test('check-upgrades: exit 0 when up to date', async () => {
  const r = await w.run(['check-upgrades'], { json: true });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).pending).toEqual([]);
});

test('--dry-run of every state-changing verb prints the plan and leaves the DB bytes unchanged', async () => {
  const before = await dbBytes();
  const inst = await w.run(['install', '--dry-run', '--force', 'tis-free'], { json: true });
  expect(inst.code).toBe(0);
  const out = JSON.parse(inst.stdout);
  expect(out.dry_run).toBe(true);
  expect(out.results).toEqual([]);
  expect(out.plan.order).toEqual([expect.objectContaining({ action: 'reinstall', package: 'tis-free', version: '1.0-1', repo: 'global' })]);
  const human = await w.run(['remove', '--dry-run', 'tis-free']);
  expect(human.stdout).toContain('1. remove tis-free 1.0-1 (requested)');
  expect(human.stdout).toContain('(dry run: nothing was changed)');
  for (const args of [
    ['upgrade', '--dry-run'],
    ['forget', '--dry-run', 'tis-free'],
    ['hold', '--dry-run', 'tis-free'],
    ['audit', '--dry-run'],
    ['session-setup', '--dry-run'],
    ['clean', '--dry-run'],
    ['download-upgrade', '--dry-run'],
  ]) {
    const r = await w.run(args);
    expect({ args, code: r.code }).toEqual({ args, code: 0 });
  }
  expect((await dbBytes()).equals(before)).toBe(true);
  expect(existsSync(path.join(w.userRoot, 'tis-sess.sessions'))).toBe(false);
});

test('held package: not upgraded, shown as held, remove and forget refused (PACKAGE_HELD); unhold releases it', async () => {
  const h = await w.run(['hold', 'tis-held', '--reason', 'app certification'], { json: true });
  expect(h.code).toBe(0);
  expect(JSON.parse(h.stdout)).toMatchObject({ package: 'tis-held', held: true, reason: 'app certification' });
  await w.publish({ name: 'tis-held', version: '2.0-1' }, { name: 'tis-free', version: '2.0-1' });
  expect((await w.run(['update'])).code).toBe(0);

  const check = await w.run(['check-upgrades'], { json: true });
  expect(check.code).toBe(100);
  expect(JSON.parse(check.stdout).pending.map((p: { package: string }) => p.package)).toEqual(['tis-free']);

  const dl = await w.run(['download-upgrade'], { json: true });
  expect(dl.code).toBe(0);
  expect(JSON.parse(dl.stdout).results).toEqual([{ package: 'tis-free', version: '2.0-1', action: 'upgrade', status: 'DOWNLOADED' }]);
  expect((await readdir(w.cacheDir)).some((f) => f.startsWith('tis-free_2.0-1'))).toBe(true);

  const plan = await w.run(['upgrade', '--dry-run']);
  expect(plan.stdout).toMatch(/held: tis-held/);
  const up = await w.run(['upgrade'], { json: true });
  expect(up.code).toBe(0);
  expect(JSON.parse(up.stdout).results.map((r: { package: string }) => r.package)).toEqual(['tis-free']);
  const db = await w.db();
  expect(db.installed.get('tis-held')!.version).toBe('1.0-1');
  expect(db.installed.get('tis-free')!.version).toBe('2.0-1');
  db.close();

  for (const verb of ['remove', 'forget']) {
    const r = await w.run([verb, 'tis-held'], { json: true });
    expect({ verb, code: r.code, err: JSON.parse(r.stdout).error.code }).toEqual({ verb, code: 7, err: 'PACKAGE_HELD' });
  }
  expect((await w.run(['unhold', 'tis-held'])).code).toBe(0);
  expect((await w.run(['check-upgrades'])).code).toBe(100);
  expect((await w.run(['upgrade'])).code).toBe(0);
  expect((await w.run(['check-upgrades'])).code).toBe(0);
});

test('hold --until in the past holds nothing; a bad date is a usage error', async () => {
  expect((await w.run(['hold', 'tis-free', '--until', 'not-a-date'])).code).toBe(2);
  expect((await w.run(['hold', 'tis-free', '--until', '2001-01-01'])).code).toBe(0);
  const r = await w.run(['remove', '--dry-run', 'tis-free']);
  expect(r.code).toBe(0); // the hold expired
  expect((await w.run(['unhold', 'tis-free'])).code).toBe(0);
});

test('clean deletes cache files nothing needs and keeps the installed ones', async () => {
  const before = await readdir(w.cacheDir);
  expect(before.some((f) => f.startsWith('tis-free_1.0-1'))).toBe(true);
  const r = await w.run(['clean'], { json: true });
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.removed).toEqual(expect.arrayContaining([expect.stringMatching(/^tis-free_1\.0-1/), expect.stringMatching(/^tis-held_1\.0-1/)]));
  const after = await readdir(w.cacheDir);
  expect(after.some((f) => f.startsWith('tis-free_1.0-1'))).toBe(false);
  expect(after.some((f) => f.startsWith('tis-free_2.0-1'))).toBe(true);
  expect(after.some((f) => f.startsWith('tis-sess_1.0-1'))).toBe(true);
});

test('audit stores the hook result (WARNING) and the dir template audit (OK, then ERROR when a file is gone)', async () => {
  const r = await w.run(['audit'], { json: true });
  expect(r.code).toBe(0);
  const res = Object.fromEntries(JSON.parse(r.stdout).results.map((x: { package: string; status: string }) => [x.package, x.status]));
  expect(res).toMatchObject({ 'tis-sess': 'WARNING', 'tis-dir': 'OK', 'tis-free': 'OK' });
  await rm(path.join(w.userRoot, 'opt', 'tis-dir', 'a.txt'));
  const bad = await w.run(['audit', 'tis-dir'], { json: true });
  expect(bad.code).toBe(1);
  const db = await w.db();
  const row = db.installed.get('tis-dir')!;
  expect(db.installed.get('tis-sess')!.last_audit_status).toBe('WARNING');
  db.close();
  expect(row.last_audit_status).toBe('ERROR');
  expect(row.last_audit_output).toContain('missing: opt/tis-dir/a.txt');
  expect(row.last_audit_on).not.toBeNull();
});

test('session-setup runs once per user and package version', async () => {
  const file = path.join(w.userRoot, 'tis-sess.sessions');
  const first = await w.run(['session-setup'], { json: true });
  expect(first.code).toBe(0);
  expect(JSON.parse(first.stdout).results.find((x: { package: string }) => x.package === 'tis-sess').status).toBe('DONE');
  const second = await w.run(['session-setup'], { json: true });
  expect(JSON.parse(second.stdout).results.find((x: { package: string }) => x.package === 'tis-sess').status).toBe('ALREADY_DONE');
  expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(1);
  await w.publish({ name: 'tis-sess', version: '1.1-1', setup: sessionSetup('tis-sess') });
  await w.run(['update']);
  expect((await w.run(['upgrade'])).code).toBe(0);
  await w.run(['session-setup']);
  const lines = (await readFile(file, 'utf8')).trim().split('\n');
  expect(lines.map((l) => l.split(' ')[1])).toEqual(['1.0-1', '1.1-1']);
});

test('forget drops the row without running uninstall: the files stay', async () => {
  const r = await w.run(['forget', 'tis-sess'], { json: true });
  expect(r.code).toBe(0);
  expect(existsSync(path.join(w.userRoot, 'tis-sess.txt'))).toBe(true);
  const db = await w.db();
  expect(db.installed.get('tis-sess')).toBeUndefined();
  expect(db.sessions.get('root', 'tis-sess') ?? db.sessions.get(os.userInfo().username, 'tis-sess')).toBeUndefined();
  db.close();
});

test('rights: install needs root unless user_mode_root is set (PERMISSION_DENIED otherwise)', () => {
  expect(installTarget({ uid: 0, userModeRoot: null }, 'install')).toBe('/');
  expect(installTarget({ uid: 1000, userModeRoot: '/srv/u' }, 'install')).toBe('/srv/u');
  let err: unknown;
  try {
    installTarget({ uid: 1000, userModeRoot: null }, 'remove');
  } catch (e) {
    err = e;
  }
  expect(isWaptError(err, 'PERMISSION_DENIED')).toBe(true);
});
