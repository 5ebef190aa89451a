// install / remove end to end: the real CLI as a child, real signed packages made from
// the templates, served by a real nginx over TLS, installed below user_mode_root.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ERROR_TABLE, EXIT, type ErrorCode } from '../../src/errors.js';
import { cleanupPki } from '../helpers/pki.js';
import { buildTestPackage, makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';

let w: AgentEnv;

beforeAll(async () => {
  w = await makeAgentEnv();
  await w.publish(
    { name: 'tis-dir', template: 'dir', version: '1.0-1', files: { 'files/hello.txt': 'hello\n' } },
    { name: 'tis-script', template: 'script', version: '2.0-1' },
    { name: 'tis-group', template: 'group', version: '1-1', depends: 'tis-dir,tis-script' },
    { name: 'tis-pyonly', version: '1.0-1', files: { 'setup.py': 'def install():\n    pass\n' } },
  );
  const up = await w.run(['update']);
  expect(up.code).toBe(0);
});

afterAll(async () => {
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

test('install+remove of a dir package: files appear under user_mode_root, then disappear', async () => {
  const r = await w.run(['install', 'tis-dir'], { json: true });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.results).toEqual([{ package: 'tis-dir', version: '1.0-1', action: 'install', status: 'OK' }]);
  // the dir template copies files/ to /opt/<package> below the target root
  const where = path.join(w.userRoot, 'opt', 'tis-dir', 'hello.txt');
  expect(await readFile(where, 'utf8')).toBe('hello\n');

  const db = await w.db();
  const row = db.installed.get('tis-dir')!;
  db.close();
  expect(row.install_status).toBe('OK');
  expect(row.explicit_by).not.toBeNull();
  expect(row.setup_code).toContain('export async function install');
  expect(row.uninstall_data).toMatchObject({ target: '/opt/tis-dir' });
  expect(row.install_output).toContain('deployed');
  expect(row.pid).toBeNull();

  const rm = await w.run(['remove', 'tis-dir'], { json: true });
  expect(rm.code).toBe(0);
  expect(JSON.parse(rm.stdout).results[0]).toMatchObject({ package: 'tis-dir', status: 'REMOVED' });
  expect(existsSync(where)).toBe(false);
  const db2 = await w.db();
  expect(db2.installed.get('tis-dir')).toBeUndefined();
  db2.close();
});

test('install+remove of a script package: the shell scripts run with WAPT_TARGET_ROOT', async () => {
  const r = await w.run(['install', 'tis-script']);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('install tis-script 2.0-1: OK');
  const marker = path.join(w.userRoot, 'opt', 'tis-script', 'installed-by-script.txt');
  expect(await readFile(marker, 'utf8')).toBe('tis-script 2.0-1\n');
  const rm = await w.run(['remove', 'tis-script']);
  expect(rm.code).toBe(0);
  expect(existsSync(marker)).toBe(false);
});

test('install+remove of a group package: dependencies first, group recorded without setup code', async () => {
  const r = await w.run(['install', 'tis-group'], { json: true });
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout);
  const order = out.plan.order.map((s: { package: string }) => s.package);
  expect(order.indexOf('tis-group')).toBe(2);
  expect(out.results.every((x: { status: string }) => x.status === 'OK')).toBe(true);
  const db = await w.db();
  const g = db.installed.get('tis-group')!;
  const dep = db.installed.get('tis-dir')!;
  db.close();
  expect(g.setup_code).toBeNull();
  expect(g.explicit_by).not.toBeNull();
  expect(dep.explicit_by).toBeNull(); // pulled in as a dependency (W-G1)
  expect(dep.depends_by).toBe('tis-group');
  expect(existsSync(path.join(w.userRoot, 'opt', 'tis-script', 'installed-by-script.txt'))).toBe(true);

  const rm = await w.run(['remove', 'tis-group', 'tis-dir', 'tis-script']);
  expect(rm.code).toBe(0);
  expect(existsSync(path.join(w.userRoot, 'opt', 'tis-script'))).toBe(false);
  expect(existsSync(path.join(w.userRoot, 'opt', 'tis-dir'))).toBe(false);
});

test('a setup.py-only package fails with SETUP_PY_UNSUPPORTED and state ERROR (exit 6)', async () => {
  const r = await w.run(['install', 'tis-pyonly'], { json: true });
  expect(r.code).toBe(6);
  expect(JSON.parse(r.stdout).results[0]).toMatchObject({ status: 'ERROR', error_code: 'SETUP_PY_UNSUPPORTED' });
  const db = await w.db();
  const row = db.installed.get('tis-pyonly')!;
  db.close();
  expect(row.install_status).toBe('ERROR');
  expect(row.error_code).toBe('SETUP_PY_UNSUPPORTED');
  await w.run(['forget', 'tis-pyonly']);
});

test('install FILE.wapt: a local package is verified like a downloaded one; a tampered one is refused (exit 3)', async () => {
  const file = await buildTestPackage(w.pki, w.dir, path.join(w.dir, 'local'), {
    name: 'tis-local',
    setup: "import { writeFile } from 'node:fs/promises';\nexport async function install(h) { await writeFile(h.targetPath('/tis-local.ran'), 'x'); }\n",
  });
  const bad = path.join(w.dir, 'local', 'tampered.wapt');
  const bytes = await readFile(file);
  bytes[Math.floor(bytes.length / 4)] ^= 0xff;
  await writeFile(bad, bytes);
  const before = await readFile(w.dbPath);
  const refused = await w.run(['install', bad], { json: true });
  expect(refused.code).toBe(3);
  expect(ERROR_TABLE[JSON.parse(refused.stdout).error.code as ErrorCode].exit).toBe(EXIT.VERIFY);
  const foreign = await buildTestPackage(w.pki, w.dir, path.join(w.dir, 'foreign'), { name: 'tis-local', signedBy: 'otherSigner' });
  const untrusted = await w.run(['install', foreign], { json: true });
  expect(untrusted.code).toBe(3);
  expect(JSON.parse(untrusted.stdout).error.code).toBe('SIGNER_UNTRUSTED');
  expect((await readFile(w.dbPath)).equals(before)).toBe(true);
  expect(existsSync(path.join(w.userRoot, 'tis-local.ran'))).toBe(false);

  const ok = await w.run(['install', file], { json: true });
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout).plan.order[0]).toMatchObject({ package: 'tis-local', repo: '(local file)' });
  expect(existsSync(path.join(w.userRoot, 'tis-local.ran'))).toBe(true);
  expect(existsSync(file)).toBe(true); // a file named by the person is never moved or deleted
  const db = await w.db();
  expect(db.installed.get('tis-local')).toMatchObject({ install_status: 'OK', repo: '(local file)' });
  db.close();
});
