// Issue 11 §1: `npm run package:deb` builds a Debian package that installs with dpkg -i:
// /usr/bin/wapt-get, /etc/wapt-get/ (ini, ssl/), the systemd service and timer; the
// installed binary runs --version and doctor; dpkg -r takes it away again. Real dpkg, as root.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let out: string;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('this test installs a .deb with dpkg -i: it needs root');
  if (existsSync('/usr/bin/wapt-get')) throw new Error('/usr/bin/wapt-get already exists: remove the installed wapt-get first (dpkg -r wapt-get)');
  out = mkdtempSync(path.join(os.tmpdir(), 'wapt-deb-'));
  // dist/ is built by the test run; the script packs it with the runtime node_modules
  execFileSync('bash', [path.join(ROOT, '.ci/package-deb.sh'), '--no-build', out], { cwd: ROOT, stdio: 'pipe' });
}, 600_000);
afterAll(() => {
  spawnSync('dpkg', ['-r', 'wapt-get'], { stdio: 'ignore' });
  if (out) rmSync(out, { recursive: true, force: true });
});

test('the .deb installs with dpkg -i, runs --version and doctor, and dpkg -r removes it', () => {
  const debs = readdirSync(out).filter((f) => f.endsWith('.deb'));
  expect(debs).toEqual([expect.stringMatching(/^wapt-get_\d+\.\d+\.\d+_all\.deb$/)]);
  execFileSync('dpkg', ['-i', path.join(out, debs[0]!)], { stdio: 'pipe' });
  for (const f of [
    '/usr/bin/wapt-get',
    '/etc/wapt-get/wapt-get.ini',
    '/lib/systemd/system/wapt-get-upgrade.service',
    '/lib/systemd/system/wapt-get-upgrade.timer',
  ]) {
    expect({ f, exists: existsSync(f) }).toEqual({ f, exists: true });
  }
  expect(existsSync('/etc/wapt-get/ssl')).toBe(true);
  const env = { ...process.env, NO_COLOR: '1', WAPT_GET_CONFIG: undefined, NODE_OPTIONS: undefined };
  const version = spawnSync('/usr/bin/wapt-get', ['--version'], { encoding: 'utf8', env, cwd: os.tmpdir() });
  expect(version.status).toBe(0);
  expect(version.stdout).toMatch(/^wapt-get \d+\.\d+\.\d+ \(commit [0-9a-f]{12}, node v\d+\.\d+\.\d+\)$/m);
  // a fresh install has no repository yet: doctor says so, one line per check, and exits 1
  const doctor = spawnSync('/usr/bin/wapt-get', ['doctor'], { encoding: 'utf8', env, cwd: os.tmpdir() });
  expect(doctor.status).toBe(1);
  expect(doctor.stdout).toMatch(/^ok {3}config +\/etc\/wapt-get\/wapt-get\.ini parsed: 0 repositories$/m);
  expect(doctor.stdout).toMatch(/^FAIL repositories +no repository is configured: set repo_url$/m);
  expect(doctor.stdout).toMatch(/^FAIL trusted +\/etc\/wapt-get\/ssl holds no certificate/m);
  execFileSync('dpkg', ['-r', 'wapt-get'], { stdio: 'pipe' });
  expect(existsSync('/usr/bin/wapt-get')).toBe(false);
  expect(existsSync('/usr/lib/wapt-get')).toBe(false);
}, 120_000);
