// Issue 14: `edit` (WAPT's edit: a verified package back into a source directory) and
// `make-host-template`, through the real CLI against a real nginx repository.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { editControlField, rewriteZip } from '../helpers/packages.js';
import { cleanupPki } from '../helpers/pki.js';

let w: AgentEnv;
let work: string;
const UUID = '3D2C1B00-0000-4000-8000-00000000ED17';

beforeAll(async () => {
  w = await makeAgentEnv();
  await w.publish({ name: 'tis-editme', version: '2.1-3', files: { 'payload.txt': 'hello\n' } });
  work = path.join(w.dir, 'work');
  await mkdir(work);
}, 60_000);

afterAll(async () => {
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

describe('edit', () => {
  test('a name in the main repository: verified, unpacked into NAME-wapt with its control and payload', async () => {
    const r = await w.run(['edit', 'tis-editme', '--source-dir', path.join(work, 'tis-editme-wapt')], { json: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ package: 'tis-editme', version: '2.1-3', dry_run: false });
    const control = await readFile(path.join(work, 'tis-editme-wapt', 'WAPT', 'control'), 'utf8');
    expect(control).toMatch(/^package\s*: tis-editme$/m);
    expect(await readFile(path.join(work, 'tis-editme-wapt', 'payload.txt'), 'utf8')).toBe('hello\n');
  });

  test('--dry-run verifies and names the directory; nothing is written', async () => {
    const dir = path.join(work, 'dry');
    const r = await w.run(['edit', 'tis-editme', '--source-dir', dir, '--dry-run'], { json: true });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true, source_dir: dir });
    expect(existsSync(dir)).toBe(false);
  });

  test('a non-empty target directory is refused (IO_ERROR) and left as it was', async () => {
    const dir = path.join(work, 'taken');
    await mkdir(dir);
    await writeFile(path.join(dir, 'mine.txt'), 'mine');
    const r = await w.run(['edit', 'tis-editme', '--source-dir', dir], { json: true });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('IO_ERROR');
    expect(await readFile(path.join(dir, 'mine.txt'), 'utf8')).toBe('mine');
  });

  test('a tampered .wapt file is refused before anything is unpacked', async () => {
    const [good] = await w.publish({ name: 'tis-tampered', files: { 'a.txt': 'a' } });
    const bad = path.join(w.dir, 'tis-tampered-bad.wapt');
    await rewriteZip(good!, bad, { replace: { 'WAPT/control': editControlField('description', 'altered') } });
    const dir = path.join(work, 'tampered');
    const r = await w.run(['edit', bad, '--source-dir', dir], { json: true });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.code).toBe('CONTROL_SIGNATURE_INVALID');
    expect(existsSync(dir)).toBe(false);
  });

  test('a name the repository does not have: a clear error, nothing written', async () => {
    const dir = path.join(work, 'absent');
    const r = await w.run(['edit', 'tis-absent', '--source-dir', dir], { json: true });
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout).error.code).toBe('PACKAGE_NOT_FOUND');
    expect(existsSync(dir)).toBe(false);
  });
});

describe('make-host-template', () => {
  test('makes a host package source: package = the UUID, section host, the depends given', async () => {
    const dir = path.join(work, 'host-src');
    const r = await w.run(['make-host-template', UUID, '--dir', dir, '--depends', 'tis-editme,tis-two'], { json: true });
    expect(r.code).toBe(0);
    const control = await readFile(path.join(dir, 'WAPT', 'control'), 'utf8');
    expect(control).toMatch(new RegExp(`^package\\s*: ${UUID}$`, 'm'));
    expect(control).toMatch(/^section\s*: host$/m);
    expect(control).toMatch(/^depends\s*: tis-editme,tis-two$/m);
    expect(existsSync(path.join(dir, 'setup.mjs'))).toBe(false); // W-D5: no code
  });

  test('--dry-run writes nothing', async () => {
    const dir = path.join(work, 'host-dry');
    const r = await w.run(['make-host-template', UUID, '--dir', dir, '--dry-run'], { json: true });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true, dir });
    expect(existsSync(dir)).toBe(false);
  });

  test('a name that is not a package name is refused, nothing written', async () => {
    const r = await w.run(['make-host-template', '../escape', '--dir', path.join(work, 'escape')], { json: true });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('CONTROL_INVALID');
    expect(existsSync(path.join(work, 'escape'))).toBe(false);
  });
});
