// Issue 8 §1-2: `scanpackages --sign` asks the trust policy about its key, and takes
// the previous statement version only from a statement that verifies with an allowed
// key. Drives the real binary (bin/wapt-get → dist/).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePackagesZipBytes } from '../../src/repo/index-file/packages-zip.js';
import { readPackagesZip } from '../../src/repo/index-file/packages-zip.js';
import { parseStatement } from '../../src/repo/statement/statement.js';
import { runCli } from '../helpers/cli.js';

const MADE = join(process.cwd(), 'fixtures/conformance/wapt-made');
const TRUSTED = join(MADE, 'trusted');
const KEYS = join(MADE, 'keys');
const SIGN = ['--key', join(KEYS, 'codesigner.pem'), '--cert', join(KEYS, 'codesigner.crt')];
const DEPLOYER = ['--key', join(KEYS, 'deployer.pem'), '--cert', join(KEYS, 'deployer.crt')];
const PLANTED = Number.MAX_SAFE_INTEGER - 1; // 2^53 - 2

let tmp: string;
let n = 0;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-scan-prev-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function repoCopy(): Promise<string> {
  const dir = join(tmp, `repo-${++n}`);
  await mkdir(dir);
  for (const f of (await readdir(join(MADE, 'repo'))).filter((f) => f.endsWith('.wapt'))) await copyFile(join(MADE, 'repo', f), join(dir, f));
  return dir;
}

function scan(args: string[]) {
  return runCli(['--json', 'scanpackages', ...args], { env: { WAPT_GET_CONFIG: join(tmp, 'none.ini') } });
}

async function statementVersion(dir: string): Promise<number> {
  const idx = await readPackagesZip(join(dir, 'Packages'));
  return parseStatement(idx.statement!.bytes).version;
}

/** A Packages whose statement claims version 2^53-2: signed by `signer`, or (null) with its signature member removed. */
async function plant(dir: string, signer: 'untrusted' | 'unsigned'): Promise<Buffer> {
  const { execFileSync } = await import('node:child_process');
  const keyPath = join(tmp, `rogue-${n}.pem`);
  const certPath = join(tmp, `rogue-${n}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=uploader', '-days', '30', '-keyout', keyPath, '-out', certPath], {
    stdio: 'ignore',
  });
  const key = createPrivateKey(await readFile(keyPath));
  const cert = new X509Certificate(await readFile(certPath));
  const dest = join(dir, 'Packages');
  await writePackagesZipBytes(dest, {
    packagesBytes: Buffer.from(''),
    certificates: [],
    // created is "now" and the version is 2^53-2: exactly what the issue shows.
    statement: { key, cert, expiresInMs: 86_400_000, previousVersion: PLANTED - 1, repository: 'main' },
  });
  if (signer === 'unsigned') {
    const { rewriteZip } = await import('../agent/update-repo-fixture.js');
    await rewriteZip(dest, `${dest}.x`, (name, data) => (name.endsWith('.sig') ? null : data));
    await copyFile(`${dest}.x`, dest);
    await rm(`${dest}.x`);
  }
  expect(await statementVersion(dir)).toBe(PLANTED);
  return readFile(dest);
}

describe('issue 8 §1: scanpackages --sign asks the trust policy', () => {
  test('--sign with a deployer key → SIGNER_NOT_ALLOWED (exit 3), no Packages written', async () => {
    const dir = await repoCopy();
    const r = await scan([dir, '--trusted', TRUSTED, '--sign', ...DEPLOYER]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.code).toBe('SIGNER_NOT_ALLOWED');
    expect(await stat(join(dir, 'Packages')).catch(() => null)).toBeNull();
  });

  test('--sign with the code-signing key still works (the genuine flow)', async () => {
    const dir = await repoCopy();
    const r = await scan([dir, '--trusted', TRUSTED, '--sign', ...SIGN, '--repository', 'main']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).statement.version).toBe(await statementVersion(dir));
    expect(parseStatement((await readPackagesZip(join(dir, 'Packages'))).statement!.bytes).repository).toBe('main');
  });
});

describe('issue 8 §2: the previous version comes only from a verified statement', () => {
  test.each(['unsigned', 'untrusted'] as const)(
    'planted %s Packages with version 2^53-2 → SCAN_PREVIOUS_UNVERIFIED, nothing signed (never 2^53-1)',
    async (kind) => {
      const dir = await repoCopy();
      const planted = await plant(dir, kind);
      const r = await scan([dir, '--trusted', TRUSTED, '--sign', ...SIGN]);
      expect(r.code).toBe(3);
      const err = JSON.parse(r.stdout).error;
      expect(err.code).toBe('SCAN_PREVIOUS_UNVERIFIED');
      expect(err.message).toContain('--reset-version');
      expect((await readFile(join(dir, 'Packages'))).equals(planted)).toBe(true);
    },
  );

  test('--reset-version after a planted statement: the version comes from the clock (documented reset)', async () => {
    const dir = await repoCopy();
    await plant(dir, 'untrusted');
    const started = Math.floor(Date.now() / 1000);
    const r = await scan([dir, '--trusted', TRUSTED, '--sign', ...SIGN, '--reset-version']);
    expect(r.code).toBe(0);
    const v = await statementVersion(dir);
    expect(v).toBeGreaterThanOrEqual(started);
    expect(v).toBeLessThan(started + 60);
    // From now on the genuine statement is the previous one: versions keep growing.
    expect((await scan([dir, '--trusted', TRUSTED, '--sign', ...SIGN])).code).toBe(0);
    expect(await statementVersion(dir)).toBeGreaterThan(v);
  });

  test('a planted scan cache version is not used either (the cache lives in the same writable directory)', async () => {
    const dir = await repoCopy();
    expect((await scan([dir, '--trusted', TRUSTED, '--sign', ...SIGN])).code).toBe(0);
    const v = await statementVersion(dir);
    const cachePath = join(dir, '.wapt-get-scan-cache');
    const cache = JSON.parse(await readFile(cachePath, 'utf8'));
    cache.lastStatementVersion = PLANTED;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(cachePath, JSON.stringify(cache));
    await rm(join(dir, 'Packages'));
    expect((await scan([dir, '--trusted', TRUSTED, '--sign', ...SIGN])).code).toBe(0);
    const next = await statementVersion(dir);
    expect(next).toBeGreaterThanOrEqual(v);
    expect(next).toBeLessThan(v + 3600);
  });
});
