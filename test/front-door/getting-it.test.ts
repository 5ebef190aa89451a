// Issue 11 §1: getting it. A clone without a build says what to run; a Node older than
// 20.15 gets one clear line; `npm pack` + `npm install -g ./wapt-get-*.tgz` gives a working
// `wapt-get` on PATH; .ci/run installs exactly as the README says.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wapt-getting-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const env = () => {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete e.NODE_OPTIONS;
  return e;
};

test('a clone without a build says what to run (exit 70), not a module stack', () => {
  const clone = path.join(tmp, 'clone');
  execFileSync('git', ['clone', '-q', '--depth', '1', `file://${ROOT}`, clone]);
  const r = spawnSync(process.execPath, [path.join(clone, 'bin', 'wapt-get'), '--version'], { encoding: 'utf8', env: env() });
  expect(r.status).toBe(70);
  expect(r.stderr).toBe('wapt-get: cannot start: dist/ is not built (a fresh clone)\n  hint: run `npm ci && npm run build` in the wapt-get directory\n');
});

test('a Node older than 20.15 gets one NODE_TOO_OLD line, and engines says >=20.15', () => {
  const preload = path.join(tmp, 'old-node.cjs');
  writeFileSync(preload, "Object.defineProperty(process.versions, 'node', { value: '20.10.0' });\n");
  const r = spawnSync(process.execPath, ['-r', preload, path.join(ROOT, 'bin', 'wapt-get'), 'verify', 'x.wapt'], { encoding: 'utf8', env: env() });
  expect(r.status).toBe(1);
  expect(r.stderr.split('\n')[0]).toBe('wapt-get: error [NODE_TOO_OLD] Node.js 20.10.0 is too old: wapt-get needs 20.15 or newer');
  expect(r.stderr).not.toContain('TypeError');
  expect((JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node).toBe('>=20.15');
});

test('--version prints our version, the commit and Node', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'wapt-get'), '--version'], { encoding: 'utf8', env: env() });
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  expect(r.stdout).toBe(`wapt-get 0.1.0 (commit ${head.slice(0, 12)}, node ${process.version})\n`);
});

test('npm pack + npm install -g ./wapt-get-*.tgz gives a working wapt-get on PATH', () => {
  // dist/ is built by the test run; --ignore-scripts skips prepack's second build
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp], { cwd: ROOT, stdio: 'pipe' });
  const tgz = readdirSync(tmp).find((f) => /^wapt-get-.*\.tgz$/.test(f));
  expect(tgz).toBeDefined();
  const prefix = path.join(tmp, 'prefix');
  execFileSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', path.join(tmp, tgz!)], { stdio: 'pipe', env: env() });
  const bin = path.join(prefix, 'bin', 'wapt-get');
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8', env: env(), cwd: tmp });
  expect(version.status).toBe(0);
  expect(version.stdout).toMatch(/^wapt-get 0\.1\.0 \(commit (?:[0-9a-f]{12}|unknown), node v/);
  const cmp = spawnSync(bin, ['compare-versions', '1.2-1', 'lt', '1.10-1'], { encoding: 'utf8', env: env(), cwd: tmp });
  expect(cmp.status).toBe(0);
}, 300_000);

test('.ci/run installs with npm ci and ends with the README test command', () => {
  const run = readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')
    .trimEnd()
    .split('\n');
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  expect(run).toContain('npm ci --no-audit --no-fund');
  expect(run[run.length - 1]).toBe('npm test');
  expect(readme).toContain('npm ci && npm test');
  expect(readme).not.toMatch(/^sudo /m);
});
