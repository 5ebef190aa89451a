// Issue 11 §5: CI publishing. docs/ci/publish.sh (the one script both recipes in docs/ci.md
// call) runs end to end: the key from WAPT_KEY_PEM (never printed), SOURCE_DATE_EPOCH from
// the commit, verify, publish into a web root, a signed index; a second run is a no-op and a
// changed package under a published name_version is refused (PACKAGE_EXISTS).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupPki, getTestPki, type TestPki } from '../helpers/pki.js';
import { writeSourceDir } from '../helpers/packages.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = path.join(ROOT, 'docs', 'ci', 'publish.sh');
let tmp: string;
let pki: TestPki;
let repo: string;
let web: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wapt-ci-'));
  pki = await getTestPki();
  // wapt-get on PATH, as `npm install -g` would put it
  const binDir = path.join(tmp, 'bin');
  mkdirSync(binDir);
  writeFileSync(
    path.join(binDir, 'wapt-get'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(ROOT, 'bin', 'wapt-get'))} "$@"\n`,
  );
  chmodSync(path.join(binDir, 'wapt-get'), 0o755);
  repo = path.join(tmp, 'packages-repo');
  writeSourceDir(path.join(repo, 'packages', 'tis-ci'), {
    control: { package: 'tis-ci', version: '1.0-1', description: 'from CI' },
    files: { 'data/a.txt': 'a\n' },
  });
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: repo, env: { ...process.env, GIT_AUTHOR_DATE: '2026-11-01T10:00:00Z', GIT_COMMITTER_DATE: '2026-11-01T10:00:00Z' } });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=ci', '-c', 'user.email=ci@example.org', 'commit', '-q', '-m', 'packages');
  web = path.join(tmp, 'www', 'wapt');
  env = {
    ...process.env,
    PATH: `${binDir}:${process.env.PATH}`,
    NO_COLOR: '1',
    WAPT_KEY_PEM: readFileSync(pki.codesigner.keyPath, 'utf8'),
    WAPT_CERT_PEM: readFileSync(pki.codesigner.certPath, 'utf8'),
    WAPT_TRUSTED_DIR: pki.trustedDir,
    WAPT_WEB_ROOT: web,
    WAPT_GET_CONFIG: path.join(tmp, 'none.ini'),
    SOURCE_DATE_EPOCH: undefined,
    NODE_OPTIONS: undefined,
  };
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  if (pki) cleanupPki(pki);
});

function publish() {
  return spawnSync('bash', [SCRIPT, 'packages/tis-ci'], { cwd: repo, env, encoding: 'utf8', timeout: 120_000 });
}

test('publish.sh builds with the commit date, verifies, publishes and signs the index; the key is never printed', () => {
  const r = publish();
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
  const files = readdirSync(web).sort();
  expect(files).toEqual(expect.arrayContaining(['Packages', 'tis-ci_1.0-1.wapt']));
  // SOURCE_DATE_EPOCH from the commit (2026-11-01T10:00:00Z)
  expect(r.stdout).toContain(`== build and sign (SOURCE_DATE_EPOCH=${Date.parse('2026-11-01T10:00:00Z') / 1000})`);
  const keyBody = env.WAPT_KEY_PEM!.split('\n')[1]!;
  expect(r.stdout + r.stderr).not.toContain(keyBody);
  // the published index verifies with the statement: a client-side check through the binary
  const v = spawnSync(path.join(tmp, 'bin', 'wapt-get'), ['verify', '--trusted', pki.trustedDir, path.join(web, 'tis-ci_1.0-1.wapt')], {
    env,
    encoding: 'utf8',
  });
  expect(v.status).toBe(0);
});

test('a second run of the same commit is a no-op: same bytes, nothing refused', () => {
  const before = readFileSync(path.join(web, 'tis-ci_1.0-1.wapt'));
  const r = publish();
  expect(r.status).toBe(0);
  expect(readFileSync(path.join(web, 'tis-ci_1.0-1.wapt')).equals(before)).toBe(true);
});

test('changed content under an already published name_version is refused (PACKAGE_EXISTS), the web root keeps the old file', () => {
  const before = readFileSync(path.join(web, 'tis-ci_1.0-1.wapt'));
  writeFileSync(path.join(repo, 'packages', 'tis-ci', 'data', 'a.txt'), 'changed\n');
  const r = publish();
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('[PACKAGE_EXISTS]');
  expect(readFileSync(path.join(web, 'tis-ci_1.0-1.wapt')).equals(before)).toBe(true);
});
