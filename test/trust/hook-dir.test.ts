// Issue 8 §6: stored hooks (remove, audit) run the setup.mjs kept in the DB. Before the fix
// it was written to a bare temp dir, and a bare `import` in it resolved to /tmp/node_modules,
// which any local user can create: a module planted by `nobody` ran as root. Now the code
// runs from a private directory under dbdir, and the hook child resolves imports only to
// node: built-ins and files of the hook's own directory. Real binary, real `nobody`.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';

const SPEC = `wapt-planted-${process.pid}`;
const NODE_MODULES = join(tmpdir(), 'node_modules');
let createdNodeModules = false;
let env: AgentEnv;
const marker = join(tmpdir(), `${SPEC}.ran-as-root`);

function asNobody(cmd: string[]): void {
  const r = spawnSync('runuser', ['-u', 'nobody', '--', ...cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`as nobody: ${cmd.join(' ')}: ${r.stderr || r.error?.message}`);
}

/** What `nobody` plants: <dir>/<SPEC>/index.js that leaves a marker when it is loaded (ESM and require). */
function plantModule(nodeModules: string): void {
  const dir = join(nodeModules, SPEC);
  asNobody(['mkdir', '-p', dir]);
  const code = `require('fs').writeFileSync(${JSON.stringify(marker)}, 'planted module loaded by uid ' + process.getuid());\nmodule.exports = { planted: true };\n`;
  asNobody(['sh', '-c', `cat > ${dir}/index.js <<'EOF'\n${code}EOF\nprintf '{"name":"${SPEC}","main":"index.js"}' > ${dir}/package.json`]);
}

// The hooks a legitimate package might ship: each tries a bare import (a module it hoped was installed globally).
const SETUP = `
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
async function tryImports(h, what) {
  const out = { url: import.meta.url };
  try { await import('${SPEC}'); out.esm = 'loaded'; } catch (e) { out.esm = e.code + ': ' + e.message; }
  try { createRequire(import.meta.url)('${SPEC}'); out.cjs = 'loaded'; } catch (e) { out.cjs = e.code + ': ' + e.message; }
  writeFileSync(h.targetPath(what + '.json'), JSON.stringify(out));
}
export async function install(h) { await tryImports(h, 'install'); }
export async function audit(h) { await tryImports(h, 'audit'); return 'OK'; }
export async function uninstall(h) { await tryImports(h, 'uninstall'); }
`;

beforeAll(async () => {
  if (process.getuid!() !== 0) throw new Error(`these tests need root (runuser -u nobody); running as uid ${process.getuid!()}`);
  if (!existsSync(NODE_MODULES)) {
    asNobody(['mkdir', NODE_MODULES]);
    createdNodeModules = true;
  }
  plantModule(NODE_MODULES);
  env = await makeAgentEnv();
  // the agent's own dirs sit below /tmp too: plant there as well where nobody could (their parent, /tmp)
  await env.publish({ name: 'tis-bare-import', version: '1.0-1', setup: SETUP });
  expect((await env.run(['update'])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await env?.stop();
  rmSync(join(NODE_MODULES, SPEC), { recursive: true, force: true });
  if (createdNodeModules) rmSync(NODE_MODULES, { recursive: true, force: true });
  rmSync(marker, { force: true });
});

function hookReport(what: string): { url: string; esm: string; cjs: string } {
  return JSON.parse(readFileSync(join(env.userRoot, `${what}.json`), 'utf8'));
}

test('attack: nobody plants /tmp/node_modules/<bare specifier>; root’s install, audit and remove never load it', async () => {
  const inst = await env.run(['install', 'tis-bare-import']);
  expect(inst.code).toBe(0);
  expect(existsSync(marker)).toBe(false);
  expect(hookReport('install')).toMatchObject({
    esm: expect.stringMatching(/^ERR_HOOK_IMPORT_REFUSED|^ERR_MODULE_NOT_FOUND/),
    cjs: expect.stringMatching(/^ERR_HOOK_IMPORT_REFUSED|^MODULE_NOT_FOUND/),
  });

  const audit = await env.run(['audit', 'tis-bare-import']);
  expect(audit.code).toBe(0);
  expect(existsSync(marker)).toBe(false);
  const a = hookReport('audit');
  expect(a.esm).toMatch(/^ERR_HOOK_IMPORT_REFUSED: .*\/tmp\/node_modules/);
  expect(a.cjs).toMatch(/^ERR_HOOK_IMPORT_REFUSED: .*\/tmp\/node_modules/);

  const rm = await env.run(['remove', 'tis-bare-import']);
  expect(rm.code).toBe(0);
  expect(existsSync(marker)).toBe(false);
  const u = hookReport('uninstall');
  expect(u.esm).toMatch(/^ERR_HOOK_IMPORT_REFUSED: /);
  expect(u.cjs).toMatch(/^ERR_HOOK_IMPORT_REFUSED: /);
});

test('stored hooks run from a private directory under dbdir (0700, ours), not a bare temp dir, and it is removed afterwards', async () => {
  expect((await env.run(['install', 'tis-bare-import'])).code).toBe(0);
  expect((await env.run(['audit', 'tis-bare-import'])).code).toBe(0);
  const hookFile = fileURLToPath(hookReport('audit').url);
  const hooksRoot = join(dirname(env.dbPath), 'hooks');
  expect(dirname(dirname(hookFile))).toBe(hooksRoot);
  const st = statSync(hooksRoot);
  expect(st.mode & 0o777).toBe(0o700);
  expect(st.uid).toBe(process.getuid!());
  expect(existsSync(dirname(hookFile))).toBe(false);
  expect((await env.run(['remove', 'tis-bare-import'])).code).toBe(0);
  expect(fileURLToPath(hookReport('uninstall').url).startsWith(hooksRoot + '/')).toBe(true);
});

test('a private hook dir left by a killed run (dead pid) is swept by the next stored hook', async () => {
  const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!; // has exited: its pid is free
  const left = join(dirname(env.dbPath), 'hooks', `${dead}-left`);
  mkdirSync(left, { recursive: true, mode: 0o700 });
  expect((await env.run(['install', 'tis-bare-import'])).code).toBe(0);
  expect((await env.run(['audit', 'tis-bare-import'])).code).toBe(0);
  expect(existsSync(left)).toBe(false);
});

test('genuine: a hook imports node: built-ins and its own package files (relative import) as before', async () => {
  const setup = `import { writeFileSync } from 'node:fs';\nimport { answer } from './lib/answer.mjs';\nexport async function install(h) { writeFileSync(h.targetPath('own-import.txt'), String(answer)); }\n`;
  await env.publish({ name: 'tis-own-import', version: '1.0-1', setup, files: { 'lib/answer.mjs': 'export const answer = 42;\n' } });
  expect((await env.run(['update'])).code).toBe(0);
  const r = await env.run(['install', 'tis-own-import']);
  expect(r.code).toBe(0);
  expect(readFileSync(join(env.userRoot, 'own-import.txt'), 'utf8')).toBe('42');
});

test('attack (running from sources): a child.js planted by nobody at the predictable transpile dir is never used', async () => {
  // a shared temp dir of our own (mode 1777, like /tmp), so the real /tmp build other test files use is left alone
  const sharedTmp = join(env.dir, 'shared-tmp');
  mkdirSync(sharedTmp);
  chmodSync(env.dir, 0o755);
  chmodSync(sharedTmp, 0o1777);
  const { transpileChild, transpiledChildDir } = await import('../../src/agent/hooks/child-entry.js');
  const srcDir = fileURLToPath(new URL('../../src/agent/hooks/', import.meta.url));
  const planted = transpiledChildDir(srcDir, sharedTmp);
  asNobody(['mkdir', '-p', planted]);
  asNobody(['sh', '-c', `printf '%s' "require('fs').writeFileSync('${marker}.child', 'x')" > ${planted}/child.js; echo '{}' > ${planted}/package.json`]);
  const entry = transpileChild(srcDir, sharedTmp);
  expect(entry.startsWith(planted + '/')).toBe(false);
  expect(readFileSync(entry, 'utf8')).toContain('must be started by the hook runner');
  expect(statSync(dirname(entry)).uid).toBe(process.getuid!());
  // and what the runner would start is that build: it answers as the real child does
  const r = spawnSync(process.execPath, [entry], { encoding: 'utf8' });
  expect(r.stderr).toContain('must be started by the hook runner');
  expect(existsSync(`${marker}.child`)).toBe(false);
});
