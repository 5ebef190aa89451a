// Issue 11 §5-6: build-package -o REPO refuses to overwrite a published name_version with
// other bytes unless --force; sign -o NEWDIR creates it; the key from WAPT_KEY_PEM; --dry-run
// on build-package and sign writes nothing.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { cleanupPki, getTestPki, type TestPki } from '../helpers/pki.js';
import { writeSourceDir } from '../helpers/packages.js';

let tmp: string;
let pki: TestPki;
let src: string;
const NAME = 'tis-pub_1.0-1.wapt';

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wapt-publishing-'));
  pki = await getTestPki();
  src = path.join(tmp, 'src');
  writeSourceDir(src, { control: { package: 'tis-pub', version: '1.0-1', description: 'first' }, files: { 'data/a.txt': 'one\n' } });
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  if (pki) cleanupPki(pki);
});

const signer = () => ['--key', pki.codesigner.keyPath, '--cert', pki.codesigner.certPath];
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(args, { cwd: tmp, env: { WAPT_GET_CONFIG: path.join(tmp, 'none.ini'), SOURCE_DATE_EPOCH: undefined, ...env } });

describe('build-package -o REPO', () => {
  const repo = () => path.join(tmp, 'repo');

  it('refuses to overwrite a published name_version.wapt with other bytes (PACKAGE_EXISTS), keeps the old file', async () => {
    expect((await cli(['build-package', src, '-o', repo(), ...signer()])).code).toBe(0);
    const before = readFileSync(path.join(repo(), NAME));
    writeFileSync(path.join(src, 'data', 'a.txt'), 'two\n');
    const r = await cli(['build-package', src, '-o', repo(), ...signer()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`wapt-get: error [PACKAGE_EXISTS] ${NAME} is already published in ${repo()} with other content`);
    expect(readFileSync(path.join(repo(), NAME)).equals(before)).toBe(true);
    expect(readdirSync(repo())).toEqual([NAME]); // no temp file left behind
  });

  it('replaces it with --force', async () => {
    const before = readFileSync(path.join(repo(), NAME));
    const r = await cli(['--json', 'build-package', src, '-o', repo(), '--force', ...signer()]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).built[0]).toMatchObject({ status: 'replaced', path: path.join(repo(), NAME) });
    expect(readFileSync(path.join(repo(), NAME)).equals(before)).toBe(false);
  });

  it('--dry-run builds and signs privately and writes nothing', async () => {
    const out = path.join(tmp, 'dry-out');
    const r = await cli(['--json', 'build-package', src, '-o', out, '--dry-run', ...signer()]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true, built: [{ path: path.join(out, NAME) }] });
    expect(existsSync(out)).toBe(false);
  });

  it('takes the key from WAPT_KEY_PEM and the certificate from WAPT_CERT_PEM, never printing them', async () => {
    const out = path.join(tmp, 'from-env');
    const keyPem = readFileSync(pki.codesigner.keyPath, 'utf8');
    const r = await cli(['-v', 'build-package', src, '-o', out], { WAPT_KEY_PEM: keyPem, WAPT_CERT_PEM: readFileSync(pki.codesigner.certPath, 'utf8') });
    expect(r.code).toBe(0);
    expect(readdirSync(out)).toEqual([NAME]);
    expect(r.stdout + r.stderr).not.toContain(keyPem.split('\n')[1]);
    const bad = await cli(['build-package', src, '-o', out, '--force'], {
      WAPT_KEY_PEM: '-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n',
      WAPT_CERT_PEM: readFileSync(pki.codesigner.certPath, 'utf8'),
    });
    expect(bad.code).toBe(9);
    expect(bad.stderr).toContain('$WAPT_KEY_PEM');
    expect(bad.stderr).not.toContain(keyPem.split('\n')[1]);
  });
});

describe('sign -o NEWDIR', () => {
  it('creates the directory and writes the signed copy there; --dry-run writes nothing', async () => {
    const pkg = path.join(tmp, 'repo', NAME);
    const dry = path.join(tmp, 'signed-dry', 'deeper');
    const d = await cli(['--json', 'sign', pkg, '-o', dry, '--dry-run', ...signer()]);
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ dry_run: true, signed: [{ path: path.join(dry, NAME) }] });
    expect(existsSync(path.join(tmp, 'signed-dry'))).toBe(false);
    const out = path.join(tmp, 'signed', 'deeper');
    const r = await cli(['sign', pkg, '-o', out, ...signer()]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(readdirSync(out)).toEqual([NAME]);
  });
});
