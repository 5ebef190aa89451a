// The Helpers object given to setup.mjs hooks: path confinement, file deployment,
// subprocesses, parameters. Path helpers run in-process; run() goes through a real hook child.
import { mkdtemp, mkdir, readFile, rm, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type WaptError } from '../../src/errors.js';
import type { HookContext } from '../../src/agent/hooks/api.js';
import { createHelpers, which } from '../../src/agent/hooks/helpers.js';
import { runHook } from '../../src/agent/hooks/runner.js';

let tmp: string;
let pkg: string;
let root: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hooks-helpers-'));
  pkg = path.join(tmp, 'pkg');
  root = path.join(tmp, 'root');
  await mkdir(path.join(pkg, 'files', 'sub dir'), { recursive: true });
  await mkdir(root);
  await writeFile(path.join(pkg, 'files', 'a.txt'), 'A');
  await writeFile(path.join(pkg, 'files', 'sub dir', 'b.sh'), '#!/bin/sh\necho b\n');
  await chmod(path.join(pkg, 'files', 'sub dir', 'b.sh'), 0o755);
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function ctx(extra: Partial<HookContext> = {}): HookContext {
  return { package: 'tis-h', version: '1-1', control: {}, params: {}, targetRoot: root, packageDir: pkg, persistent: {}, os: 'linux', arch: 'x64', ...extra };
}

test('targetPath maps relative and absolute paths under targetRoot', () => {
  const h = createHelpers(ctx());
  expect(h.targetPath('opt/app')).toBe(path.join(root, 'opt', 'app'));
  expect(h.targetPath('/opt/app')).toBe(path.join(root, 'opt', 'app'));
  expect(h.targetPath('opt/../etc/x')).toBe(path.join(root, 'etc', 'x'));
});

test.each(['../outside', '/../../etc/passwd', 'opt/../../x', '..'])('targetPath refuses escaping path %s', (bad) => {
  const h = createHelpers(ctx());
  expect(() => h.targetPath(bad)).toThrow(/escapes/);
});

test('copyTree deploys a directory under targetRoot, keeps modes, returns the files written', async () => {
  const h = createHelpers(ctx());
  const written = await h.copyTree('files', '/opt/app');
  expect(written).toEqual(['opt/app/a.txt', 'opt/app/sub dir/b.sh']);
  expect(await readFile(path.join(root, 'opt/app/a.txt'), 'utf8')).toBe('A');
  expect((await stat(path.join(root, 'opt/app/sub dir/b.sh'))).mode & 0o777).toBe(0o755);
  // a second copy overwrites in place, no temp files left behind
  await writeFile(path.join(pkg, 'files', 'a.txt'), 'A2');
  await h.copyTree('files', '/opt/app');
  expect(await readFile(path.join(root, 'opt/app/a.txt'), 'utf8')).toBe('A2');
  expect(existsSync(path.join(root, `opt/app/a.txt.wapt-tmp-${process.pid}`))).toBe(false);
});

test('copyTree copies a single file to the given target path', async () => {
  const h = createHelpers(ctx());
  expect(await h.copyTree('files/a.txt', 'etc/app.conf')).toEqual(['etc/app.conf']);
  expect(await readFile(path.join(root, 'etc/app.conf'), 'utf8')).toBe('A');
});

test('copyTree refuses a source outside the package directory', async () => {
  const h = createHelpers(ctx());
  await expect(h.copyTree('../root', 'x')).rejects.toThrow(/escapes/);
});

test('copyTree refuses a symbolic link in the package', async () => {
  await symlink('/etc/passwd', path.join(pkg, 'files', 'link'));
  const h = createHelpers(ctx());
  await expect(h.copyTree('files', 'opt/app')).rejects.toThrow(/symbolic link/);
});

test('removeTree deletes under targetRoot, tolerates missing paths, refuses the root and escapes', async () => {
  const h = createHelpers(ctx());
  await h.copyTree('files', 'opt/app');
  await h.removeTree('/opt/app');
  expect(existsSync(path.join(root, 'opt/app'))).toBe(false);
  expect(existsSync(path.join(root, 'opt'))).toBe(true);
  await expect(h.removeTree('/opt/app')).resolves.toBeUndefined();
  await expect(h.removeTree('/')).rejects.toThrow(/target root itself/);
  await expect(h.removeTree('../pkg')).rejects.toThrow(/escapes/);
  expect(existsSync(pkg)).toBe(true);
});

test('param returns the value, the fallback, or throws when missing without fallback', () => {
  const h = createHelpers(ctx({ params: { port: 8080, empty: '' } }));
  expect(h.param('port')).toBe(8080);
  expect(h.param('empty', 'x')).toBe('');
  expect(h.param('absent', 'dflt')).toBe('dflt');
  expect(() => h.param('absent')).toThrow(/missing install parameter "absent"/);
});

test('remember stores into ctx.persistent and refuses non-JSON values', () => {
  const c = ctx();
  const h = createHelpers(c);
  h.remember('files', ['a', 'b']);
  expect(c.persistent).toEqual({ files: ['a', 'b'] });
  expect(() => h.remember('fn', () => 1)).toThrow(/JSON/);
});

test('which finds executables on PATH and nothing for unknown names', () => {
  expect(which('sh')).toMatch(/\/sh$/);
  expect(which('no-such-tool-wapt-get-xyz')).toBeUndefined();
});

async function hook(body: string, extra: Partial<HookContext> = {}) {
  await writeFile(path.join(pkg, 'setup.mjs'), `export async function install(h) { ${body} }`);
  return runHook({ setupPath: path.join(pkg, 'setup.mjs'), hook: 'install', ctx: ctx(extra), timeoutMs: 20000 });
}

test('run returns code and output; runs in the package directory by default', async () => {
  const r = await hook(`return h.run('sh', ['-c', 'pwd; echo err >&2']);`);
  expect(r.result).toEqual({ code: 0, stdout: `${pkg}\n`, stderr: 'err\n' });
});

test('run with a non-zero exit code throws naming the code and the stderr tail', async () => {
  await expect(hook(`await h.run('sh', ['-c', 'echo broken thing >&2; exit 7']);`)).rejects.toThrow(/exited with code 7: broken thing/);
  const r = await hook(`try { await h.run('sh', ['-c', 'exit 7']); } catch (e) { return e.exitCode; }`);
  expect(r.result).toBe(7);
});

test('run accepts the listed exit codes (msiexec 3010 style)', async () => {
  const r = await hook(`return (await h.run('sh', ['-c', 'exit 3'], { accept: [0, 3] })).code;`);
  expect(r.result).toBe(3);
});

test('run passes env and kills a command past its own timeoutMs', async () => {
  const r = await hook(`return (await h.run('sh', ['-c', 'echo $WAPT_X'], { env: { WAPT_X: 'yes' } })).stdout;`);
  expect(r.result).toBe('yes\n');
  await expect(hook(`await h.run('sleep', ['30'], { timeoutMs: 300 });`)).rejects.toThrow(/timed out after 300 ms/);
});

test('run of a missing program throws a clear error', async () => {
  const e = await hook(`await h.run('no-such-tool-wapt-get-xyz', []);`).catch((x: WaptError) => x);
  expect((e as WaptError).code).toBe('ERR_HOOK_FAILED');
  expect((e as WaptError).message).toMatch(/cannot run no-such-tool-wapt-get-xyz: .*ENOENT/);
});

test.each(['installDeb', 'installRpm'])('%s refuses to touch the system when targetRoot is a user-mode root', async (fn) => {
  await writeFile(path.join(pkg, 'x.pkg'), '');
  await expect(hook(`await h.${fn}('x.pkg');`)).rejects.toThrow(/system-wide and cannot honour targetRoot/);
});

test.each(['removeDeb', 'removeRpm'])('%s refuses to touch the system when targetRoot is a user-mode root', async (fn) => {
  await expect(hook(`await h.${fn}('somepkg');`)).rejects.toThrow(/system-wide/);
});

test('installDeb refuses a path outside the package', async () => {
  await expect(hook(`await h.installDeb('../evil.deb');`)).rejects.toThrow(/escapes/);
});
