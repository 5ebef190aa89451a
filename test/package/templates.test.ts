// make-template: every kind yields a valid WAPT/control (W-C1..W-C3); the code
// templates really install and uninstall through the hook runner (X1).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { WaptError } from '../../src/errors.js';
import { parseControl } from '../../src/package/control.js';
import { makeTemplate, TEMPLATE_KINDS, templatesDir, fillPlaceholders } from '../../src/package/templates.js';
import { runHook } from '../../src/agent/hooks/runner.js';
import type { HookContext, HookName } from '../../src/agent/hooks/api.js';
import { command } from '../../src/cli/commands/make-template.js';
import { Output } from '../../src/cli/output.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'templates-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<WaptError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WaptError) return e;
    throw e;
  }
  throw new Error('expected a WaptError');
}

const SECTION: Record<string, string> = { group: 'group', host: 'host', unit: 'unit' };

test.each([...TEMPLATE_KINDS])('W-C1: make-template %s gives a control that parses, with the given values', async (kind) => {
  const dir = path.join(tmp, 'out');
  const made = await makeTemplate(kind, 'tis-demo', dir, { maintainer: 'Ada <ada@example.org>', description: 'A demo: ünïcode' });
  const text = await readFile(path.join(dir, 'WAPT/control'), 'utf8');
  expect(text.endsWith('\n')).toBe(false);
  const c = parseControl(text);
  expect(c.get('package')).toBe('tis-demo');
  expect(c.get('version')).toBe('0.1-1');
  expect(c.get('section')).toBe(SECTION[kind] ?? 'base');
  expect(c.get('maintainer')).toBe('Ada <ada@example.org>');
  expect(c.get('description')).toBe('A demo: ünïcode');
  for (const line of text.split('\n')) expect(line).toMatch(/^[a-z_]{1,18} *: /); // "%-18s: %s"
  expect(made.files).toContain('WAPT/control');
  const hasSetup = !(kind in SECTION);
  expect(made.files.includes('setup.mjs')).toBe(hasSetup);
  for (const f of made.files) expect(await readFile(path.join(dir, f), 'utf8')).not.toContain('{{');
  if (hasSetup) {
    const check = spawnSync(process.execPath, ['--check', path.join(dir, 'setup.mjs')], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(await readFile(path.join(dir, 'setup.mjs'), 'utf8')).toContain("import('wapt-get/hooks').Helpers");
  }
});

test('every template directory has a kind and a WAPT/control', async () => {
  for (const kind of TEMPLATE_KINDS) expect(existsSync(path.join(templatesDir(), kind, 'WAPT', 'control'))).toBe(true);
});

test('make-template fills version and keeps script modes', async () => {
  const dir = path.join(tmp, 'out');
  await makeTemplate('script', 'tis-s', dir, { version: '2.5.1-3' });
  expect(parseControl(await readFile(path.join(dir, 'WAPT/control'), 'utf8')).get('version')).toBe('2.5.1-3');
  expect((await stat(path.join(dir, 'scripts/install.sh'))).mode & 0o111).not.toBe(0);
});

test('make-template refuses an existing non-empty directory and leaves it untouched', async () => {
  const dir = path.join(tmp, 'busy');
  await mkdir(dir);
  await writeFile(path.join(dir, 'keep.txt'), 'mine');
  const e = await rejection(makeTemplate('dir', 'tis-x', dir));
  expect(e.code).toBe('USAGE');
  expect(await readFile(path.join(dir, 'keep.txt'), 'utf8')).toBe('mine');
  expect(existsSync(path.join(dir, 'WAPT'))).toBe(false);
});

test('make-template accepts an existing empty directory', async () => {
  const dir = path.join(tmp, 'empty');
  await mkdir(dir);
  await makeTemplate('group', 'tis-g', dir);
  expect(existsSync(path.join(dir, 'WAPT/control'))).toBe(true);
});

test.each([
  ['unknown kind', 'nsis', 'tis-x', {}, 'USAGE'],
  ['bad version (packaging not an integer)', 'dir', 'tis-x', { version: '1.0-beta' }, 'VERSION_INVALID'],
  ['name with a space', 'dir', 'tis x', {}, 'CONTROL_INVALID'],
  ['name with a quote (would break setup.mjs)', 'dir', "tis'x", {}, 'CONTROL_INVALID'],
  ['description with a line break', 'dir', 'tis-x', { description: 'a\nversion: 9' }, 'CONTROL_INVALID'],
] as const)('make-template refuses %s', async (_title, kind, name, vars, code) => {
  const dir = path.join(tmp, 'bad');
  const e = await rejection(makeTemplate(kind, name, dir, vars));
  expect(e.code).toBe(code);
  expect(existsSync(dir)).toBe(false);
});

test('fillPlaceholders treats an unknown placeholder as a template bug', () => {
  expect(fillPlaceholders('a {{package}} b', { package: 'p' })).toBe('a p b');
  expect(() => fillPlaceholders('{{nope}}', {})).toThrow(/nope/);
});

function ctxFor(pkgDir: string, root: string, persistent: Record<string, unknown> = {}): HookContext {
  return {
    package: 'tis-demo',
    version: '0.1-1',
    control: {},
    params: {},
    targetRoot: root,
    packageDir: pkgDir,
    persistent,
    os: process.platform,
    arch: process.arch,
  };
}

async function hook(pkgDir: string, root: string, name: HookName, persistent: Record<string, unknown> = {}) {
  return runHook({ setupPath: path.join(pkgDir, 'setup.mjs'), hook: name, ctx: ctxFor(pkgDir, root, persistent), timeoutMs: 30000 });
}

test('X1: the dir template deploys files on install, audits them, removes them on uninstall', async () => {
  const pkg = path.join(tmp, 'pkg');
  const root = path.join(tmp, 'root');
  await mkdir(root);
  await makeTemplate('dir', 'tis-demo', pkg);
  await mkdir(path.join(pkg, 'files', 'conf'));
  await writeFile(path.join(pkg, 'files', 'conf', 'app.ini'), '[x]\n');

  const inst = await hook(pkg, root, 'install');
  expect(await readFile(path.join(root, 'opt/tis-demo/conf/app.ini'), 'utf8')).toBe('[x]\n');
  expect(existsSync(path.join(root, 'opt/tis-demo/README.txt'))).toBe(true);
  expect(inst.persistent.files).toEqual(['opt/tis-demo/README.txt', 'opt/tis-demo/conf/app.ini']);
  expect(inst.output).toContain('deployed 2 file(s)');

  expect((await hook(pkg, root, 'audit', inst.persistent)).result).toBe('OK');
  await unlink(path.join(root, 'opt/tis-demo/conf/app.ini'));
  const audit = await hook(pkg, root, 'audit', inst.persistent);
  expect(audit.result).toBe('ERROR');
  expect(audit.output).toContain('missing: opt/tis-demo/conf/app.ini');

  await hook(pkg, root, 'uninstall', inst.persistent);
  expect(existsSync(path.join(root, 'opt/tis-demo'))).toBe(false);
});

test('X1: the script template runs install.sh, and uninstall.sh even after the package dir is gone', async () => {
  const pkg = path.join(tmp, 'pkg');
  const root = path.join(tmp, 'root');
  await mkdir(root);
  await makeTemplate('script', 'tis-demo', pkg);
  const inst = await hook(pkg, root, 'install');
  const marker = path.join(root, 'opt/tis-demo/installed-by-script.txt');
  expect(await readFile(marker, 'utf8')).toBe('tis-demo 0.1-1\n');
  expect(inst.output).toContain('installed tis-demo into');
  // Like WAPT's DB column setuppy: only the script survives; the extracted package is gone.
  const stored = path.join(tmp, 'stored');
  await mkdir(stored);
  await writeFile(path.join(stored, 'setup.mjs'), await readFile(path.join(pkg, 'setup.mjs')));
  await rm(pkg, { recursive: true });
  const un = await runHook({ setupPath: path.join(stored, 'setup.mjs'), hook: 'uninstall', ctx: ctxFor(pkg, root, inst.persistent), timeoutMs: 30000 });
  expect(un.output).toContain('uninstalled tis-demo');
  expect(existsSync(marker)).toBe(false);
  expect(existsSync(path.join(root, 'opt/tis-demo'))).toBe(false);
});

test.each(['msi', 'exe'])('X1: the %s template refuses to run on a non-Windows system with a clear message', async (kind) => {
  if (process.platform === 'win32') return;
  const pkg = path.join(tmp, 'pkg');
  await makeTemplate(kind, 'tis-demo', pkg);
  const e = await rejection(hook(pkg, tmp, 'install'));
  expect(e.code).toBe('ERR_HOOK_FAILED');
  expect(e.message).toContain('tis-demo needs Windows');
});

test('X1: the deb template refuses a user-mode target root instead of touching the system', async () => {
  const pkg = path.join(tmp, 'pkg');
  await makeTemplate('deb', 'tis-demo', pkg);
  await writeFile(path.join(pkg, 'tis-demo.deb'), '');
  const e = await rejection(hook(pkg, tmp, 'install'));
  expect(e.code).toBe('ERR_HOOK_FAILED');
  expect(e.message).toMatch(/system-wide/);
});

function capture(json: boolean) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (b) => (out += b));
  return { out: new Output({ json, quiet: false, verbose: false, color: false, stdout, stderr }), text: () => out };
}

test('make-template command: --dir, --package-version, --json result', async () => {
  const cap = capture(true);
  await command.run({ out: cap.out, configPath: undefined, env: { USER: 'bob' }, cwd: tmp }, ['unit', 'tis-ou'], { dir: 'ou-pkg', packageVersion: '3-2' });
  const res = JSON.parse(cap.text());
  expect(res).toMatchObject({ kind: 'unit', package: 'tis-ou', dir: path.join(tmp, 'ou-pkg'), files: ['WAPT/control'] });
  const c = parseControl(await readFile(path.join(tmp, 'ou-pkg/WAPT/control'), 'utf8'));
  expect(c.get('version')).toBe('3-2');
  expect(c.get('maintainer')).toBe('bob');
  expect(c.get('section')).toBe('unit');
});

test('make-template command defaults the directory to NAME-wapt', async () => {
  const cap = capture(false);
  await command.run({ out: cap.out, configPath: undefined, env: {}, cwd: tmp }, ['host', 'f2a4c1de-0000-4000-8000-00000000abcd'], {});
  expect(existsSync(path.join(tmp, 'f2a4c1de-0000-4000-8000-00000000abcd-wapt/WAPT/control'))).toBe(true);
  expect(cap.text()).toContain('created ');
});
