// Install failures, each recorded with its stable code (OCS lesson) and nothing half-done:
// unresolvable plans, failing hooks, tampered packages, the server unreachable, disk full.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanupPki } from '../helpers/pki.js';
import { buildTestPackage, makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { isPidAlive } from '../../src/agent/lock.js';

let w: AgentEnv;
const marker = (name: string) => path.join(w.userRoot, `${name}.ran`);
/** setup.mjs whose install() writes a marker under the target root, then does `body`. */
const setup = (name: string, body = '') => `import { writeFile } from 'node:fs/promises';
export async function install(h) { await writeFile(h.targetPath('/${name}.ran'), 'ran'); ${body} }
export async function uninstall(h) {}
`;

beforeAll(async () => {
  w = await makeAgentEnv();
  await w.publish(
    { name: 'tis-needs-ghost', depends: 'tis-ghost' },
    { name: 'tis-a', conflicts: 'tis-b' },
    { name: 'tis-b' },
    { name: 'tis-c1', depends: 'tis-c2' },
    { name: 'tis-c2', depends: 'tis-c1' },
    { name: 'tis-ok', version: '1.0-1', setup: setup('tis-ok') },
    { name: 'tis-throws', setup: setup('tis-throws', "h.log('before the throw'); throw new Error('boom from the hook');") },
    { name: 'tis-exits', setup: setup('tis-exits', 'process.exit(3);') },
    {
      name: 'tis-hangs',
      setup: setup(
        'tis-hangs',
        `const { spawn } = await import('node:child_process');
        const c = spawn('sleep', ['300'], { stdio: 'ignore' });
        await writeFile(h.targetPath('/tis-hangs.pid'), String(c.pid));
        await new Promise(() => {});`,
      ),
    },
    { name: 'tis-tamper', setup: setup('tis-tamper') },
    { name: 'tis-big', setup: setup('tis-big'), files: { 'payload.bin': randomBytes(3 * 1024 * 1024) } },
  );
  expect((await w.run(['update'])).code).toBe(0);
});

afterAll(async () => {
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

async function jsonError(args: string[]) {
  const before = await readFile(w.dbPath);
  const r = await w.run(args, { json: true });
  // an unresolvable plan changes nothing: the DB file keeps its bytes
  expect((await readFile(w.dbPath)).equals(before)).toBe(true);
  return { code: r.code, error: JSON.parse(r.stdout).error as { code: string; message: string } };
}

async function row(name: string) {
  const db = await w.db();
  try {
    return db.installed.get(name);
  } finally {
    db.close();
  }
}

test('dependency missing: UNSATISFIABLE/NOT_FOUND exit 7, nothing installed', async () => {
  const r = await jsonError(['install', 'tis-needs-ghost']);
  expect(r.code).toBe(7);
  expect(['PACKAGE_NOT_FOUND', 'UNSATISFIABLE']).toContain(r.error.code);
  expect(r.error.message).toContain('tis-ghost');
});

test('conflict: two requested packages that conflict → CONFLICT exit 7', async () => {
  const r = await jsonError(['install', 'tis-a', 'tis-b']);
  expect(r).toMatchObject({ code: 7, error: { code: 'CONFLICT' } });
});

test('cycle: packages depending on each other → DEPENDENCY_CYCLE exit 7', async () => {
  const r = await jsonError(['install', 'tis-c1']);
  expect(r).toMatchObject({ code: 7, error: { code: 'DEPENDENCY_CYCLE' } });
});

test('no version satisfies the requirement → UNSATISFIABLE exit 7', async () => {
  const r = await jsonError(['install', 'tis-ok(>=9)']);
  expect(r).toMatchObject({ code: 7, error: { code: 'UNSATISFIABLE' } });
});

test('hook throws: ERR_HOOK_FAILED stored with the output, exit 6, cache file kept', async () => {
  const r = await w.run(['install', 'tis-throws'], { json: true });
  expect(r.code).toBe(6);
  expect(JSON.parse(r.stdout).results[0]).toMatchObject({ package: 'tis-throws', status: 'ERROR', error_code: 'ERR_HOOK_FAILED' });
  const rw = (await row('tis-throws'))!;
  expect(rw).toMatchObject({ install_status: 'ERROR', error_code: 'ERR_HOOK_FAILED', pid: null });
  expect(rw.install_output).toContain('before the throw');
  expect(rw.install_output).toContain('boom from the hook');
  expect((await readdir(w.cacheDir)).some((f) => f.startsWith('tis-throws_'))).toBe(true);
});

test('hook exits non-zero: ERR_EXIT_CODE, exit 6; the next upgrade retries the ERROR row', async () => {
  const r = await w.run(['install', 'tis-exits'], { json: true });
  expect(r.code).toBe(6);
  expect(JSON.parse(r.stdout).results[0]).toMatchObject({ error_code: 'ERR_EXIT_CODE' });
  expect((await row('tis-exits'))!.error_code).toBe('ERR_EXIT_CODE');
  const plan = await w.run(['upgrade', '--dry-run'], { json: true });
  const retried = JSON.parse(plan.stdout).plan.order.map((s: { package: string }) => s.package);
  expect(retried).toEqual(expect.arrayContaining(['tis-exits', 'tis-throws']));
});

test('hook hangs: ERR_TIMEOUT and the whole process tree is killed', async () => {
  await w.configure({ install_timeout: 2 });
  try {
    const r = await w.run(['install', 'tis-hangs'], { json: true });
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({ error_code: 'ERR_TIMEOUT' });
    const pid = Number(await readFile(path.join(w.userRoot, 'tis-hangs.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(isPidAlive(pid)).toBe(false); // the sleep the hook started died with it
  } finally {
    await w.configure();
    await w.run(['forget', 'tis-hangs']); // later upgrades must not retry a hook made to hang
  }
});

test('tampered package on the server: ERR_BAD_DIGEST exit 3, nothing kept in the cache, nothing ran', async () => {
  const good = (await readdir(w.repoDir)).find((f) => f.startsWith('tis-tamper_'))!;
  const saved = path.join(w.dir, 'good-tamper.wapt');
  await copyFile(path.join(w.repoDir, good), saved);
  // same size, one byte changed: only the digest can tell (the index still describes the original)
  const bytes = await readFile(saved);
  bytes[Math.floor(bytes.length / 3)] ^= 0xff;
  await writeFile(path.join(w.repoDir, good), bytes);
  const r = await w.run(['install', 'tis-tamper'], { json: true });
  expect(r.code).toBe(3); // ERR_BAD_DIGEST → EXIT.VERIFY through the table (issue 9 case 13)
  expect(JSON.parse(r.stdout).results[0]).toMatchObject({ status: 'ERROR', error_code: 'ERR_BAD_DIGEST' });
  expect((await readdir(w.cacheDir)).filter((f) => f.startsWith('tis-tamper_'))).toEqual([]);
  expect(existsSync(marker('tis-tamper-evil'))).toBe(false);
  expect(existsSync(marker('tis-tamper'))).toBe(false);
  expect((await row('tis-tamper'))!.error_code).toBe('ERR_BAD_DIGEST');

  // tampered file in the CACHE (a validly signed package with other code): deleted and
  // fetched again, the tampered code never runs
  const evil = await buildTestPackage(w.pki, w.dir, path.join(w.dir, 'evil'), { name: 'tis-tamper', setup: setup('tis-tamper-evil') });
  await copyFile(saved, path.join(w.repoDir, good));
  await copyFile(evil, path.join(w.cacheDir, good));
  const again = await w.run(['install', 'tis-tamper'], { json: true }); // an ERROR row is retried
  expect(JSON.parse(again.stdout).results.find((x: { package: string }) => x.package === 'tis-tamper')).toMatchObject({ status: 'OK' });
  expect(existsSync(marker('tis-tamper-evil'))).toBe(false);
  expect(existsSync(marker('tis-tamper'))).toBe(true);
  expect((await readFile(path.join(w.cacheDir, good))).equals(await readFile(saved))).toBe(true);
});

test('server down: install works from a warm cache; a cold one gives ERR_DOWNLOAD_PACK exit 4', async () => {
  expect((await w.run(['install', 'tis-ok'])).code).toBe(0);
  expect((await w.run(['remove', 'tis-ok'])).code).toBe(0);
  await rm(marker('tis-ok'));
  await w.configure({ repo_url: 'https://127.0.0.1:1', timeout: 1 });
  try {
    const warm = await w.run(['install', 'tis-ok'], { json: true });
    expect(warm.code).toBe(0);
    expect(existsSync(marker('tis-ok'))).toBe(true);
    const cold = await w.run(['install', 'tis-b'], { json: true });
    expect(cold.code).toBe(4); // ERR_DOWNLOAD_PACK → EXIT.NETWORK through the table (issue 9 case 13)
    const res = JSON.parse(cold.stdout).results[0];
    expect(res).toMatchObject({ package: 'tis-b', status: 'ERROR', error_code: 'ERR_DOWNLOAD_PACK' });
    expect(res.message).toMatch(/NETWORK_ERROR|TIMEOUT|TLS_ERROR/);
  } finally {
    await w.configure();
  }
});

/** A real 1 MiB tmpfs (the suite runs as root); a machine that cannot mount one fails this test loudly. */
function mountTinyTmpfs(dir: string): void {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`cannot mount a tmpfs on ${dir} (this test needs root and a real tmpfs, no stand-in): ${(err as Error).message}`);
  }
}

test('disk full on extract (a real 1 MiB tmpfs as TMPDIR): ERR_OUT_OF_SPACE before anything runs, the temp dir removed', async () => {
  const small = path.join(w.dir, 'small-tmp');
  await mkdir(small);
  mountTinyTmpfs(small);
  try {
    const r = await w.run(['install', 'tis-big'], { json: true, env: { TMPDIR: small } });
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({ error_code: 'ERR_OUT_OF_SPACE' });
    expect(await readdir(small)).toEqual([]); // the temp dir went too
  } finally {
    execFileSync('umount', [small]);
  }
  expect(existsSync(marker('tis-big'))).toBe(false);
  expect((await row('tis-big'))!).toMatchObject({ install_status: 'ERROR', error_code: 'ERR_OUT_OF_SPACE' });
});

test('DB file corrupt: DB_CORRUPT exit 8, the damaged bytes are kept beside it', async () => {
  const saved = await readFile(w.dbPath);
  const garbage = Buffer.from('this is not an sqlite database, it was damaged on purpose\n'.repeat(10));
  await writeFile(w.dbPath, garbage);
  try {
    const r = await w.run(['install', 'tis-b']);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('DB_CORRUPT');
    const kept = (await readdir(path.dirname(w.dbPath))).filter((f) => f.startsWith('waptdb.sqlite.corrupt-'));
    expect(kept).toHaveLength(1);
    expect((await readFile(path.join(path.dirname(w.dbPath), kept[0]!))).equals(garbage)).toBe(true);
    await rm(path.join(path.dirname(w.dbPath), kept[0]!));
  } finally {
    await writeFile(w.dbPath, saved);
  }
});
