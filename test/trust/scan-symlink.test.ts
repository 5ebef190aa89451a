// Issue 8 §2: whoever may upload into the repository directory (here the real
// unprivileged user `nobody`, through runuser) plants symlinks where the scanner writes
// its cache and index; a root scan must neither overwrite a root-only 0600 file nor
// create a file outside the repository. Drives the real binary as root.
import { execFileSync } from 'node:child_process';
import { chmod, chown, copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const MADE = join(process.cwd(), 'fixtures/conformance/wapt-made');
const SIGN = ['--key', join(MADE, 'keys/codesigner.pem'), '--cert', join(MADE, 'keys/codesigner.crt')];
const SECRET = 'root:only:secret\n';

let shared: string; // 0755: nobody may reach the repository below it
let vault: string; // 0700 root: the files the attack aims at
let nobodyUid: number;
let n = 0;

beforeAll(async () => {
  if (process.geteuid?.() !== 0) throw new Error('this test plants files as `nobody` and scans as root: run it as root (the CI does)');
  nobodyUid = Number(execFileSync('id', ['-u', 'nobody']).toString().trim());
  shared = await mkdtemp(join(tmpdir(), 'wg-scan-link-'));
  await chmod(shared, 0o755);
  vault = await mkdtemp(join(tmpdir(), 'wg-vault-'));
  await chmod(vault, 0o700);
});
afterAll(async () => {
  await rm(shared, { recursive: true, force: true });
  await rm(vault, { recursive: true, force: true });
});

/** A repository directory owned by nobody (the uploader), holding the conformance packages but `skip`. */
async function uploaderRepo(skip?: string): Promise<string> {
  const dir = join(shared, `repo-${++n}`);
  await mkdir(dir);
  for (const f of (await readdir(join(MADE, 'repo'))).filter((f) => f.endsWith('.wapt') && f !== skip)) {
    await copyFile(join(MADE, 'repo', f), join(dir, f));
    await chown(join(dir, f), nobodyUid, nobodyUid);
  }
  await chown(dir, nobodyUid, nobodyUid);
  await chmod(dir, 0o755);
  return dir;
}

/** `ln -sfn target link` run as nobody. */
function plantAsNobody(target: string, link: string): void {
  execFileSync('runuser', ['-u', 'nobody', '--', 'ln', '-sfn', target, link], { stdio: 'pipe' });
}

async function secretFile(): Promise<string> {
  const p = join(vault, `secret-${++n}`);
  await writeFile(p, SECRET, { mode: 0o600 });
  await chmod(p, 0o600);
  return p;
}

async function expectUntouched(p: string): Promise<void> {
  expect(await readFile(p, 'utf8')).toBe(SECRET);
  const st = await stat(p);
  expect(st.mode & 0o777).toBe(0o600);
  expect(st.uid).toBe(0);
}

const scan = (dir: string) => runCli(['scanpackages', dir, '--sign', ...SIGN], { env: { WAPT_GET_CONFIG: join(shared, 'none.ini') } });

describe('issue 8 §2: the scan writes nothing through a planted symlink', () => {
  test('cache blob, cache JSON and Packages symlinked to a root-only 0600 file: it stays unchanged, the scan succeeds', async () => {
    const dir = await uploaderRepo();
    const secret = await secretFile();
    for (const name of ['.wapt-get-scan-cache.1.blob', '.wapt-get-scan-cache', 'Packages']) plantAsNobody(secret, join(dir, name));
    const r = await scan(dir);
    expect(r.code).toBe(0);
    await expectUntouched(secret);
    // The links were replaced by our own files, not written through.
    for (const name of ['.wapt-get-scan-cache.1.blob', '.wapt-get-scan-cache', 'Packages']) {
      const st = await lstat(join(dir, name));
      expect(st.isSymbolicLink()).toBe(false);
      expect(st.uid).toBe(0);
    }
  });

  test('cache files symlinked to paths where nothing exists: no file is created outside the repository', async () => {
    const dir = await uploaderRepo();
    const targets = ['created-by-blob', 'created-by-json', 'created-by-gen2'].map((t) => join(vault, `${t}-${n}`));
    plantAsNobody(targets[0]!, join(dir, '.wapt-get-scan-cache.1.blob'));
    plantAsNobody(targets[1]!, join(dir, '.wapt-get-scan-cache'));
    plantAsNobody(targets[2]!, join(dir, '.wapt-get-scan-cache.2.blob'));
    const r = await scan(dir);
    expect(r.code).toBe(0);
    for (const t of targets) expect(await lstat(t).catch(() => null)).toBeNull();
  });

  test('the current blob swapped for a symlink between two scans: the append goes to a new file, the target stays unchanged', async () => {
    const skip = 'tis-hello_1.2.3-4_PROD.wapt';
    const dir = await uploaderRepo(skip);
    expect((await scan(dir)).code).toBe(0);
    const blobs = (await readdir(dir)).filter((f) => f.endsWith('.blob'));
    expect(blobs).toHaveLength(1);
    const secret = await secretFile();
    plantAsNobody(secret, join(dir, blobs[0]!));
    // The uploader adds a package: the next scan appends one block to the blob.
    await copyFile(join(MADE, 'repo', skip), join(dir, skip));
    const r = await scan(dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^indexed 4 /m);
    await expectUntouched(secret);
    // A third scan reuses the cache it wrote: the new blob is a real file of ours.
    const third = await scan(dir);
    expect(third.stdout).toMatch(/reused from cache 4/);
  });
});
