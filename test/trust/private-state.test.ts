// Issue 8 §7: waptdb.sqlite was 0644 in a 0755 dbdir, so any local user read --params
// secrets, hook output and uninstall data. Local state (dbdir, the DB and its digest, the
// cache, the lock, the host key) is now private when created (dirs 0700, files 0600),
// tightened with one warning line when found wider, and refused (STATE_UNSAFE) when it is
// a symlink or a directory another user owns. Checked as a real unprivileged user.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '../../src/agent/lock.js';
import { loadOrCreateHostIdentity } from '../../src/agent/host-identity.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';

const SECRET = 'hunter2-db-secret-7f3a';
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8).padStart(4, '0');
/** Runs a command as `nobody`; the test fails loudly when that is impossible (not root, no runuser). */
function asNobody(...cmd: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('runuser', ['-u', 'nobody', '--', ...cmd], { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run as nobody: ${r.error.message}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let env: AgentEnv;
let dbdir: string;
beforeAll(async () => {
  if (process.getuid!() !== 0) throw new Error('these tests need root (runuser -u nobody) and cannot run as uid ' + process.getuid!());
  env = await makeAgentEnv();
  dbdir = join(env.dir, 'db');
  // The world around our state is open (as /var/lib is traversable): only our own modes protect it.
  chmodSync(env.dir, 0o755);
  writeFileSync(join(env.dir, 'readable.txt'), 'anyone may read this\n', { mode: 0o644 });
  rmSync(dbdir, { recursive: true, force: true });
  rmSync(env.cacheDir, { recursive: true, force: true });
  await env.publish({
    name: 'tis-private',
    version: '1.0-1',
    setup: 'export async function install(h) { h.log(`installing with ${h.param("password")}`); }\n',
  });
}, 120_000);
afterAll(async () => env?.stop());

test('the check can tell: nobody reads a 0644 file beside our state (traversal is open)', () => {
  expect(asNobody('cat', join(env.dir, 'readable.txt'))).toMatchObject({ code: 0, stdout: 'anyone may read this\n' });
});

test('install --params with a secret: dbdir, cache 0700, DB and digest 0600 when created; nobody cannot read the DB', async () => {
  expect((await env.run(['update'])).code).toBe(0);
  const r = await env.run(['install', 'tis-private', '--params', JSON.stringify({ password: SECRET })]);
  expect(r.code).toBe(0);
  expect(r.stderr).not.toMatch(/tightened/); // created private, nothing to tighten
  expect(readFileSync(env.dbPath).includes(SECRET)).toBe(true); // the secret is really in there
  expect(mode(dbdir)).toBe('0700');
  expect(mode(env.cacheDir)).toBe('0700');
  expect(mode(env.dbPath)).toBe('0600');
  expect(mode(`${env.dbPath}.sha256`)).toBe('0600');
  const cat = asNobody('cat', env.dbPath);
  expect(cat.code).not.toBe(0);
  expect(cat.stderr).toMatch(/Permission denied/);
  expect(cat.stdout).not.toContain(SECRET);
  expect(asNobody('ls', dbdir).code).not.toBe(0);
});

test('a 0644 DB in a 0755 dbdir (an older wapt-get) is tightened with one warning line per path; nobody is locked out again', async () => {
  chmodSync(dbdir, 0o755);
  chmodSync(env.cacheDir, 0o755);
  chmodSync(env.dbPath, 0o644);
  chmodSync(`${env.dbPath}.sha256`, 0o644);
  // the attack was real: as left, nobody reads the secret
  expect(asNobody('cat', env.dbPath).stdout).toContain(SECRET);
  const r = await env.run(['list']);
  expect(r.code).toBe(0);
  const warnings = r.stderr.split('\n').filter((l) => /tightened/.test(l));
  for (const [p, from, to] of [
    [dbdir, '0755', '0700'],
    [env.cacheDir, '0755', '0700'],
    [env.dbPath, '0644', '0600'],
    [`${env.dbPath}.sha256`, '0644', '0600'],
  ]) {
    expect(warnings).toContainEqual(expect.stringContaining(`${p} was mode ${from}, readable by other users; tightened to ${to}`));
  }
  expect(warnings).toHaveLength(4);
  expect([mode(dbdir), mode(env.cacheDir), mode(env.dbPath), mode(`${env.dbPath}.sha256`)]).toEqual(['0700', '0700', '0600', '0600']);
  expect(asNobody('cat', env.dbPath).code).not.toBe(0);
  // tight now: a second run says nothing
  expect((await env.run(['list'])).stderr).not.toMatch(/tightened/);
});

describe('state reached through another user is refused (STATE_UNSAFE), and nothing is written there', () => {
  let shared: string;
  let victim: string;
  beforeAll(() => {
    shared = join(env.dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777); // like /tmp
    victim = join(env.dir, 'victim');
    mkdirSync(victim, { mode: 0o700 });
  });
  afterAll(() => env.configure());

  test('dbdir is a symlink nobody planted (to a root-only directory): exit 8, STATE_UNSAFE; no DB created behind it', async () => {
    const planted = join(shared, 'db-link');
    expect(asNobody('ln', '-s', victim, planted).code).toBe(0);
    await env.configure({ dbdir: planted, cachedir: join(env.dir, 'cache2') });
    const r = await env.run(['list'], { json: true });
    expect(r.code).toBe(8);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'STATE_UNSAFE' });
    expect(existsSync(join(victim, 'waptdb.sqlite'))).toBe(false);
  });

  test('dbdir is a directory nobody made beforehand: exit 8, STATE_UNSAFE', async () => {
    const squatted = join(shared, 'db-squat');
    expect(asNobody('mkdir', '-m', '0777', squatted).code).toBe(0);
    await env.configure({ dbdir: squatted, cachedir: join(env.dir, 'cache3') });
    const r = await env.run(['update'], { json: true });
    expect(r.code).toBe(8);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'STATE_UNSAFE' });
    expect(existsSync(join(squatted, 'waptdb.sqlite'))).toBe(false);
  });
});

test('the host key directory: made 0700 with a 0600 key that nobody cannot read; found wider, tightened with a warning', async () => {
  const hostDb = join(env.dir, 'hostdb');
  const warnings: string[] = [];
  const id = await loadOrCreateHostIdentity(hostDb, { hostUuid: 'A1B2C3D4-0000-4000-8000-000000000001', onWarning: (m) => warnings.push(m) });
  expect([mode(hostDb), mode(id.dir), mode(id.keyPath)]).toEqual(['0700', '0700', '0600']);
  chmodSync(hostDb, 0o755);
  expect(asNobody('cat', id.keyPath).code).not.toBe(0);
  chmodSync(id.dir, 0o755);
  chmodSync(id.keyPath, 0o644);
  expect(asNobody('cat', id.keyPath).stdout).toContain('PRIVATE KEY'); // the exposure was real
  await loadOrCreateHostIdentity(hostDb, { hostUuid: 'A1B2C3D4-0000-4000-8000-000000000001', onWarning: (m) => warnings.push(m) });
  expect(warnings).toEqual(
    expect.arrayContaining([expect.stringContaining(`${id.dir} was mode 0755`), expect.stringContaining(`${id.keyPath} was mode 0644`)]),
  );
  expect([mode(id.dir), mode(id.keyPath)]).toEqual(['0700', '0600']);
  expect(asNobody('cat', id.keyPath).code).not.toBe(0);
});

test('the run lock is created 0600 (O_EXCL, never through a link)', async () => {
  const lockDir = join(env.dir, 'lockdir');
  mkdirSync(lockDir, { mode: 0o755 });
  const lock = await acquireLock(join(lockDir, 'wapt-get.lock'), { timeoutMs: 0 });
  try {
    expect(mode(lock.path)).toBe('0600');
  } finally {
    await lock.release();
  }
});
