// The foundation through the real binary (bin/wapt-get → dist/): keys made with
// create-ca / create-keycert, then build-package, verify and their key errors,
// exit codes as documented (3 verify, 9 key).
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { rewriteZip, sha256, sha256File, tempDir, writeSourceDir, type PackageSpec } from '../helpers/packages.js';

const PASSWORD = 'correct horse battery staple';
let work: string;
let pkiDir: string;
let trusted: string;
let caKey: string;
let caCert: string;
let signKey: string;
let signCert: string;
let deployKey: string;
let deployCert: string;

const SPEC: PackageSpec = {
  control: { package: 'tis-cli', version: '1.0-1', maturity: 'PROD', description: 'built by the CLI test' },
  files: { 'setup.mjs': 'export async function install() {}\n', 'data/file.txt': 'payload\n' },
};
const NAME = 'tis-cli_1.0-1_PROD.wapt';

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, {
    cwd: work,
    env: { WAPT_KEY_PASSWORD: PASSWORD, WAPT_CA_PASSWORD: PASSWORD, WAPT_GET_CONFIG: join(work, 'none.ini'), SOURCE_DATE_EPOCH: undefined, ...env },
  });
}

function expectOk(r: CliResult): void {
  if (r.code !== 0) throw new Error(`exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

beforeAll(async () => {
  work = tempDir('wapt-cli-');
  pkiDir = join(work, 'pki');
  trusted = join(work, 'trusted');
  mkdirSync(trusted);
  const ca = await cli(['--json', 'create-ca', '--cn', 'CLI Test CA', '--out-dir', pkiDir]);
  expectOk(ca);
  ({ key_path: caKey, cert_path: caCert } = JSON.parse(ca.stdout));
  copyFileSync(caCert, join(trusted, 'ca.crt'));
  const [signer, deployer] = await Promise.all([
    cli(['--json', 'create-keycert', '--cn', 'cli-codesigner', '--codesigning', '--out-dir', pkiDir, '--ca-cert', caCert, '--ca-key', caKey]),
    cli(['--json', 'create-keycert', '--cn', 'cli-deployer', '--out-dir', pkiDir, '--ca-cert', caCert, '--ca-key', caKey]),
  ]);
  expectOk(signer);
  expectOk(deployer);
  ({ key_path: signKey, cert_path: signCert } = JSON.parse(signer.stdout));
  ({ key_path: deployKey, cert_path: deployCert } = JSON.parse(deployer.stdout));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** An existing, empty output directory (a missing one is its own test below). */
function outDir(label: string): string {
  const d = join(work, label);
  mkdirSync(d, { recursive: true });
  return d;
}

function source(label: string, spec: PackageSpec = SPEC): string {
  return writeSourceDir(join(work, 'src', label), spec);
}

describe('keys from create-ca / create-keycert drive build-package and verify', () => {
  test('the keys are encrypted; build-package with WAPT_KEY_PASSWORD → exit 0, verify --trusted → exit 0 OK', async () => {
    expect(readFileSync(signKey, 'latin1')).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    const out = outDir('out-ok');
    const b = await cli(['build-package', source('ok'), '--key', signKey, '--cert', signCert, '-o', out]);
    expectOk(b);
    expect(b.stdout.trim()).toBe(join(out, NAME));
    const v = await cli(['verify', '--trusted', trusted, join(out, NAME)]);
    expectOk(v);
    expect(v.stdout).toMatch(/^OK .*tis-cli 1\.0-1, signed by cli-codesigner/);
    const j = await cli(['--json', 'verify', '--trusted', trusted, join(out, NAME)]);
    expect(JSON.parse(j.stdout).results[0]).toMatchObject({
      ok: true,
      package: 'tis-cli',
      signer: 'cli-codesigner',
      code_signing: true,
      setup: 'mjs',
      chain: ['cli-codesigner', 'CLI Test CA'],
    });
  });

  test('verify without the CA in --trusted → exit 3 [SIGNER_UNTRUSTED] naming the file', async () => {
    const out = outDir('out-untrusted');
    expectOk(await cli(['build-package', source('untrusted'), '--key', signKey, '--cert', signCert, '-o', out]));
    const empty = join(work, 'empty-trusted');
    mkdirSync(empty, { recursive: true });
    const v = await cli(['verify', '--trusted', empty, join(out, NAME)]);
    expect(v.code).toBe(3);
    expect(v.stdout).toMatch(new RegExp(`FAIL .*${NAME}: \\[SIGNER_UNTRUSTED\\]`));
  });

  test('verify of an altered package → exit 3 [MANIFEST_MISMATCH]; the file is kept as it was', async () => {
    const out = outDir('out-altered');
    expectOk(await cli(['build-package', source('altered'), '--key', signKey, '--cert', signCert, '-o', out]));
    const bad = await rewriteZip(join(out, NAME), join(out, 'altered.wapt'), { replace: { 'data/file.txt': 'evil\n' } });
    const before = sha256File(bad);
    const v = await cli(['verify', '--trusted', trusted, bad]);
    expect(v.code).toBe(3);
    expect(v.stdout).toMatch(/FAIL .*altered\.wapt: \[MANIFEST_MISMATCH\].*data\/file\.txt/);
    expect(sha256File(bad)).toBe(before);
  });

  test('W-D5: build-package with setup.mjs and the deployer key → exit 3 [CODESIGNING_REQUIRED], no file written', async () => {
    const out = outDir('out-deployer');
    const b = await cli(['build-package', source('deployer'), '--key', deployKey, '--cert', deployCert, '-o', out]);
    expect(b.code).toBe(3);
    expect(b.stderr).toContain('[CODESIGNING_REQUIRED]');
    expect(b.stderr).toContain('cli-deployer');
    expect(readdirSync(out)).toEqual([]);
  });
});

test('build-package -o DIR that does not exist → DIR is created (like mkdir -p) and the package written there, exit 0', async () => {
  const out = join(work, 'missing', 'out');
  const b = await cli(['build-package', source('missing-out'), '--key', signKey, '--cert', signCert, '-o', out]);
  expect(b.code).toBe(0);
  expect(readdirSync(out)).toEqual([NAME]);
});

describe('key errors → exit 9', () => {
  test('wrong key password → exit 9 [KEY_PASSWORD_WRONG], no file written', async () => {
    const out = outDir('out-badpw');
    const b = await cli(['build-package', source('badpw'), '--key', signKey, '--cert', signCert, '-o', out], { WAPT_KEY_PASSWORD: 'not the password' });
    expect(b.code).toBe(9);
    expect(b.stderr).toContain('[KEY_PASSWORD_WRONG]');
    expect(b.stderr).toContain(signKey);
    expect(readdirSync(out)).toEqual([]);
  });

  test('missing key path → exit 9 [KEY_UNREADABLE] naming it', async () => {
    const missing = join(work, 'no-such-key.pem');
    const b = await cli(['build-package', source('nokey'), '--key', missing, '--cert', signCert, '-o', work]);
    expect(b.code).toBe(9);
    expect(b.stderr).toContain('[KEY_UNREADABLE]');
    expect(b.stderr).toContain(missing);
  });

  test('key path that is a directory → exit 9 [KEY_UNREADABLE] naming it', async () => {
    const b = await cli(['build-package', source('dirkey'), '--key', pkiDir, '--cert', signCert, '-o', work]);
    expect(b.code).toBe(9);
    expect(b.stderr).toContain('[KEY_UNREADABLE]');
    expect(b.stderr).toContain(pkiDir);
  });

  test('key of another certificate → exit 9 [KEY_CERT_MISMATCH]', async () => {
    const b = await cli(['build-package', source('mismatch'), '--key', deployKey, '--cert', signCert, '-o', work]);
    expect(b.code).toBe(9);
    expect(b.stderr).toContain('[KEY_CERT_MISMATCH]');
  });

  test('sign (re-sign) with a wrong password → exit 9, the package is untouched', async () => {
    const out = outDir('out-resign-badpw');
    expectOk(await cli(['build-package', source('resign-badpw'), '--key', signKey, '--cert', signCert, '-o', out]));
    const before = sha256File(join(out, NAME));
    const s = await cli(['sign', join(out, NAME), '--key', signKey, '--cert', signCert], { WAPT_KEY_PASSWORD: 'nope' });
    expect(s.code).toBe(9);
    expect(s.stderr).toContain('[KEY_PASSWORD_WRONG]');
    expect(sha256File(join(out, NAME))).toBe(before);
  });
});

describe('SOURCE_DATE_EPOCH', () => {
  const EPOCH = '1700000000';

  test('two CLI builds give identical bytes; the file mtime is the epoch', async () => {
    const src = source('repro');
    const [a, b] = [outDir('repro-a'), outDir('repro-b')];
    expectOk(await cli(['build-package', src, '--key', signKey, '--cert', signCert, '-o', a], { SOURCE_DATE_EPOCH: EPOCH }));
    expectOk(await cli(['build-package', src, '--key', signKey, '--cert', signCert, '-o', b], { SOURCE_DATE_EPOCH: EPOCH }));
    expect(sha256(readFileSync(join(a, NAME)))).toBe(sha256(readFileSync(join(b, NAME))));
    expect(statSync(join(a, NAME)).mtimeMs).toBe(Number(EPOCH) * 1000);
  });

  test('identical bytes in another time zone (TZ=UTC vs TZ=Asia/Tokyo)', async () => {
    const src = source('repro-tz');
    const [a, b] = [outDir('tz-a'), outDir('tz-b')];
    expectOk(await cli(['build-package', src, '--key', signKey, '--cert', signCert, '-o', a], { SOURCE_DATE_EPOCH: EPOCH, TZ: 'UTC' }));
    expectOk(await cli(['build-package', src, '--key', signKey, '--cert', signCert, '-o', b], { SOURCE_DATE_EPOCH: EPOCH, TZ: 'Asia/Tokyo' }));
    expect(sha256(readFileSync(join(a, NAME)))).toBe(sha256(readFileSync(join(b, NAME))));
  });

  test('malformed SOURCE_DATE_EPOCH → exit 2 [USAGE], nothing built', async () => {
    const out = join(work, 'repro-bad');
    const r = await cli(['build-package', source('repro-bad'), '--key', signKey, '--cert', signCert, '-o', out], { SOURCE_DATE_EPOCH: 'yesterday' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SOURCE_DATE_EPOCH');
    expect(existsSync(join(out, NAME))).toBe(false);
  });
});
