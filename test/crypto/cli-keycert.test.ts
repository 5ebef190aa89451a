// create-ca / create-keycert through the real commander program (in-process),
// checked with openssl and our own trust store.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runProgram } from '../../src/cli/program.js';
import { command as createCa } from '../../src/cli/commands/create-ca.js';
import { command as createKeycert } from '../../src/cli/commands/create-keycert.js';
import { TrustStore, commonName, loadPrivateKey, parseCertificates, keyMatchesCertificate } from '../../src/crypto/index.js';
import { KEYS, TRUSTED, openssl, tempDir } from './helpers.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = tmp.dir): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  const code = await runProgram(['node', 'wapt-get', ...args], [createCa, createKeycert], { env: { NO_COLOR: '1', ...env }, cwd, stdout, stderr });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

let tmp: ReturnType<typeof tempDir>;
let pwFile: string;
beforeEach(() => {
  tmp = tempDir();
  pwFile = join(tmp.dir, 'pw.txt');
  writeFileSync(pwFile, 'key-pass\n', { mode: 0o600 });
});
afterEach(() => tmp.cleanup());

describe('create-ca', () => {
  test('writes an encrypted key (0600) and a CA certificate; --json result names both', async () => {
    const r = await cli(['--json', 'create-ca', '--cn', 'My Corp CA', '--out-dir', 'pki', '--password-file', pwFile, '--organization', 'My Corp']);
    expect(r).toMatchObject({ code: 0 });
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({ common_name: 'My Corp CA', is_ca: true, code_signing: false, key_encrypted: true, self_signed: true });
    expect(res.key_path).toBe(join(tmp.dir, 'pki', 'My_Corp_CA.pem'));
    expect(statSync(res.key_path).mode & 0o777).toBe(0o600);
    expect(readFileSync(res.key_path, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    const text = openssl(['x509', '-noout', '-text', '-in', res.cert_path]);
    expect(text).toMatch(/Basic Constraints: critical\n\s*CA:TRUE/);
    expect(openssl(['x509', '-noout', '-fingerprint', '-sha256', '-in', res.cert_path]).replace(/:/g, '').toLowerCase()).toContain(res.fingerprint);
    const key = await loadPrivateKey(res.key_path, 'key-pass');
    expect(keyMatchesCertificate(key, parseCertificates(readFileSync(res.cert_path))[0]!)).toBe(true);
  });

  test('human output lists subject, fingerprint, code signing and paths', async () => {
    const r = await cli(['create-ca', '--cn', 'CA2', '--out-dir', 'pki', '--password-file', pwFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/subject: +CN=CA2/);
    expect(r.stdout).toMatch(/fingerprint: +[0-9a-f]{64}/);
    expect(r.stdout).toMatch(/code signing: no/);
    expect(r.stdout).toContain(join(tmp.dir, 'pki', 'CA2.crt'));
  });

  test('no password source and no TTY → USAGE (exit 2) explaining the three sources', async () => {
    const r = await cli(['create-ca', '--cn', 'CA', '--out-dir', 'pki'], { WAPT_KEY_PASSWORD: undefined });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[USAGE\].*--password-file.*WAPT_KEY_PASSWORD.*terminal/);
    expect(existsSync(join(tmp.dir, 'pki', 'CA.pem'))).toBe(false);
  });

  test('an empty password file → USAGE, not a silently unencrypted key', async () => {
    writeFileSync(pwFile, '\n');
    const r = await cli(['create-ca', '--cn', 'CA', '--out-dir', 'pki', '--password-file', pwFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/empty/);
  });

  test('a password file readable by others → a warning', async () => {
    chmodSync(pwFile, 0o644);
    const r = await cli(['create-ca', '--cn', 'CA', '--out-dir', 'pki', '--password-file', pwFile]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: .*pw\.txt.*0644/);
  });

  test('an existing key is not replaced without --force', async () => {
    expect((await cli(['create-ca', '--cn', 'CA', '--out-dir', 'pki', '--no-password'])).code).toBe(0);
    const before = readFileSync(join(tmp.dir, 'pki', 'CA.pem'));
    const again = await cli(['create-ca', '--cn', 'CA', '--out-dir', 'pki', '--no-password']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    expect(readFileSync(join(tmp.dir, 'pki', 'CA.pem'))).toEqual(before);
    expect((await cli(['create-ca', '--cn', 'CA', '--out-dir', 'pki', '--no-password', '--force'])).code).toBe(0);
    expect(readFileSync(join(tmp.dir, 'pki', 'CA.pem'))).not.toEqual(before);
  });

  test.each([
    ['--key-size 1024', ['--key-size', '1024']],
    ['--days 0', ['--days', '0']],
    ['--days abc', ['--days', 'abc']],
  ])('bad option %s → USAGE', async (_n, extra) => {
    const r = await cli(['create-ca', '--cn', 'CA', '--out-dir', 'pki', '--no-password', ...extra]);
    expect(r.code).toBe(2);
  });

  test('missing --cn → USAGE', async () => {
    expect((await cli(['create-ca', '--out-dir', 'pki', '--no-password'])).code).toBe(2);
  });
});

describe('create-keycert', () => {
  async function makeCaFiles(): Promise<{ crt: string; pem: string }> {
    const r = await cli(['--json', 'create-ca', '--cn', 'Issuing CA', '--out-dir', 'ca', '--password-file', pwFile]);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    return { crt: res.cert_path, pem: res.key_path };
  }

  test('--codesigning issued by an encrypted CA (WAPT_CA_PASSWORD): chains, code-signing, key password from WAPT_KEY_PASSWORD', async () => {
    const ca = await makeCaFiles();
    const r = await cli(['--json', 'create-keycert', '--cn', 'packager', '--out-dir', 'keys', '--codesigning', '--ca-cert', ca.crt, '--ca-key', ca.pem], {
      WAPT_CA_PASSWORD: 'key-pass',
      WAPT_KEY_PASSWORD: 'leaf-pass',
    });
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({ common_name: 'packager', code_signing: true, is_ca: false, self_signed: false });
    const [leaf] = parseCertificates(readFileSync(res.cert_path));
    const store = TrustStore.fromCertificates(parseCertificates(readFileSync(ca.crt)));
    expect(store.verifyChain(leaf!).chain.map(commonName)).toEqual(['packager', 'Issuing CA']);
    expect(openssl(['x509', '-noout', '-text', '-in', res.cert_path])).toMatch(/Extended Key Usage: critical\n\s*Code Signing/);
    expect(openssl(['verify', '-CAfile', ca.crt, '-no-CApath', '-no-CAstore', res.cert_path])).toMatch(/: OK/);
    await expect(loadPrivateKey(res.key_path, 'leaf-pass')).resolves.toBeDefined();
    await expect(loadPrivateKey(res.key_path, 'key-pass')).rejects.toMatchObject({ code: 'KEY_PASSWORD_WRONG' });
  });

  test('without --codesigning: a deployer certificate, no EKU; human output says "code signing: no"', async () => {
    const r = await cli([
      'create-keycert',
      '--cn',
      'deployer',
      '--out-dir',
      'keys',
      '--ca-cert',
      join(TRUSTED, 'ca.crt'),
      '--ca-key',
      join(KEYS, 'ca.pem'),
      '--password-file',
      pwFile,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/code signing: no/);
    const crt = join(tmp.dir, 'keys', 'deployer.crt');
    expect(openssl(['x509', '-noout', '-text', '-in', crt])).not.toMatch(/Extended Key Usage/);
    // Issued by the conformance CA key: it chains to the conformance trusted directory.
    const store = await TrustStore.load(TRUSTED);
    expect(store.verifyChain(parseCertificates(readFileSync(crt))[0]!).chain).toHaveLength(2);
  });

  test('self-signed when no CA is given', async () => {
    const r = await cli(['--json', 'create-keycert', '--cn', 'solo', '--out-dir', 'keys', '--codesigning', '--password-file', pwFile]);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({ self_signed: true, code_signing: true });
    expect(openssl(['verify', '-CAfile', res.cert_path, '-no-CApath', '-no-CAstore', res.cert_path])).toMatch(/: OK/);
  });

  test('--no-password writes an unencrypted key with a loud warning', async () => {
    const r = await cli(['create-keycert', '--cn', 'demo', '--out-dir', 'keys', '--no-password']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: --no-password.*UNENCRYPTED/);
    expect(readFileSync(join(tmp.dir, 'keys', 'demo.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(statSync(join(tmp.dir, 'keys', 'demo.pem')).mode & 0o777).toBe(0o600);
  });

  test('wrong CA password → KEY_PASSWORD_WRONG (exit 9)', async () => {
    const ca = await makeCaFiles();
    const r = await cli(['create-keycert', '--cn', 'x', '--out-dir', 'keys', '--ca-cert', ca.crt, '--ca-key', ca.pem, '--no-password'], {
      WAPT_CA_PASSWORD: 'nope',
    });
    expect(r.code).toBe(9);
    expect(r.stderr).toMatch(/KEY_PASSWORD_WRONG/);
  });

  test('encrypted CA key and no CA password source → USAGE naming WAPT_CA_PASSWORD', async () => {
    const ca = await makeCaFiles();
    const r = await cli(['create-keycert', '--cn', 'x', '--out-dir', 'keys', '--ca-cert', ca.crt, '--ca-key', ca.pem, '--no-password']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--ca-password-file.*WAPT_CA_PASSWORD/);
  });

  test('a CA key that does not match the CA certificate → KEY_CERT_MISMATCH', async () => {
    const r = await cli([
      'create-keycert',
      '--cn',
      'x',
      '--out-dir',
      'keys',
      '--ca-cert',
      join(TRUSTED, 'ca.crt'),
      '--ca-key',
      join(KEYS, 'deployer.pem'),
      '--no-password',
    ]);
    expect(r.code).toBe(9);
    expect(r.stderr).toMatch(/KEY_CERT_MISMATCH/);
  });

  test('a non-CA certificate as --ca-cert → USAGE', async () => {
    const r = await cli([
      'create-keycert',
      '--cn',
      'x',
      '--out-dir',
      'keys',
      '--ca-cert',
      join(KEYS, 'deployer.crt'),
      '--ca-key',
      join(KEYS, 'deployer.pem'),
      '--no-password',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a CA/);
  });

  test('--ca-cert without --ca-key → USAGE', async () => {
    const r = await cli(['create-keycert', '--cn', 'x', '--out-dir', 'keys', '--ca-cert', join(TRUSTED, 'ca.crt'), '--no-password']);
    expect(r.code).toBe(2);
  });

  test('--no-password with --password-file contradicts → USAGE', async () => {
    const r = await cli(['create-keycert', '--cn', 'x', '--out-dir', 'keys', '--no-password', '--password-file', pwFile]);
    expect(r.code).toBe(2);
  });

  test('an --out-dir that is a file → IO_ERROR', async () => {
    mkdirSync(join(tmp.dir, 'd'));
    writeFileSync(join(tmp.dir, 'd', 'file'), 'x');
    const r = await cli(['create-keycert', '--cn', 'x', '--out-dir', join(tmp.dir, 'd', 'file'), '--no-password']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/IO_ERROR/);
  });
});
