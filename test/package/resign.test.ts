// sign (re-sign, W-E4): a WAPT-made package gets our signer; payload bytes stay;
// package_uuid and signature_date are new; altered content is refused unless
// --force, which must be loud.
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WaptError } from '../../src/errors.js';
import { TrustStore } from '../../src/crypto/index.js';
import { parseControl, resignPackage, verifyPackage } from '../../src/package/index.js';
import { runCli } from '../helpers/cli.js';
import { cleanupPki, getTestPki, signerOf, type TestPki } from '../helpers/pki.js';
import { readMember, readZipEntries, rewriteZip, sha256File, tempDir } from '../helpers/packages.js';

const CONF = resolve('fixtures/conformance/wapt-made');
const HELLO = 'tis-hello_1.2.3-4_PROD.wapt'; // setup.py, signed by conformance-codesigner
const REGENERATED = ['WAPT/control', 'WAPT/certificate.crt', 'WAPT/manifest.sha256', 'WAPT/signature.sha256'];

let pki: TestPki;
let ours: TrustStore;
let theirs: TrustStore;
const dirs: string[] = [];
const tmp = (prefix: string) => {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  pki = await getTestPki();
  ours = await TrustStore.load(pki.trustedDir);
  theirs = await TrustStore.load(join(CONF, 'trusted'));
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  cleanupPki(pki);
});

function copyHello(): string {
  const p = join(tmp('wapt-resign-in-'), HELLO);
  copyFileSync(join(CONF, 'repo', HELLO), p);
  return p;
}

const controlOf = async (p: string) => parseControl((await readMember(p, 'WAPT/control')).toString('utf8'));

describe('re-signing a WAPT-made package', () => {
  let src: string;
  let outDir: string;
  let result: Awaited<ReturnType<typeof resignPackage>>;
  beforeAll(async () => {
    src = copyHello();
    outDir = tmp('wapt-resign-out-');
    result = await resignPackage(src, { signer: signerOf(pki.codesigner), date: new Date(), reproducible: false, outDir, force: false });
  });

  test('W-E4: the copy verifies against the new CA, signed by the new signer', async () => {
    expect(result.path).toBe(join(outDir, HELLO));
    await expect(verifyPackage(result.path, { trust: ours })).resolves.toMatchObject({
      package: 'tis-hello',
      version: '1.2.3-4',
      signer: 'test-codesigner',
      setupKind: 'py',
    });
  });

  test('… and no longer against the old CA (SIGNER_UNTRUSTED), while the original still does', async () => {
    await expect(verifyPackage(result.path, { trust: theirs })).rejects.toMatchObject({ code: 'SIGNER_UNTRUSTED' });
    await expect(verifyPackage(src, { trust: theirs })).resolves.toMatchObject({ signer: 'conformance-codesigner' });
  });

  test('W-E1: package_uuid and signature_date change; signer attributes name the new certificate; other fields kept', async () => {
    const before = await controlOf(src);
    const after = await controlOf(result.path);
    expect(after.get('package_uuid')).not.toBe(before.get('package_uuid'));
    expect(after.get('package_uuid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(after.get('signature_date')).not.toBe(before.get('signature_date'));
    expect(after.get('signer')).toBe('test-codesigner');
    expect(after.get('signer_fingerprint')).not.toBe(before.get('signer_fingerprint'));
    for (const k of ['package', 'version', 'architecture', 'section', 'description', 'depends', 'maturity', 'installed_size']) {
      expect(after.get(k)).toBe(before.get(k));
    }
  });

  test('payload bytes are unchanged, member for member; only the four WAPT signing members differ', async () => {
    const before = await readZipEntries(src);
    const after = await readZipEntries(result.path);
    const payload = (es: typeof before) => new Map(es.filter((e) => !REGENERATED.includes(e.name)).map((e) => [e.name, e.data.toString('hex')]));
    expect(payload(after)).toEqual(payload(before));
    expect(payload(before).size).toBeGreaterThan(1);
    expect(after.map((e) => e.name).slice(-4)).toEqual(REGENERATED); // W-A1b
  });

  test('the source file is untouched when --out-dir is given', () => {
    expect(sha256File(src)).toBe(sha256File(join(CONF, 'repo', HELLO)));
  });

  test('in place (no outDir): the file is replaced by one that verifies with the new CA', async () => {
    const p = copyHello();
    const r = await resignPackage(p, { signer: signerOf(pki.codesigner2), date: new Date(), reproducible: false, force: false });
    expect(r.path).toBe(p);
    expect(sha256File(p)).not.toBe(sha256File(join(CONF, 'repo', HELLO)));
    await expect(verifyPackage(p, { trust: ours })).resolves.toMatchObject({ signer: 'test-codesigner-2' });
    expect(readdirSync(join(p, '..'))).toEqual([HELLO]); // no temp file left behind
  });
});

test('a WAPT Python 2 package (stored WAPT/icon.png, non-ASCII member names, integer installed_size) re-signs and verifies', async () => {
  const name = 'tis-py2hello_1.0-1_PROD.wapt';
  const src = resolve('fixtures/conformance/wapt-made-py2/repo', name);
  const r = await resignPackage(src, {
    signer: signerOf(pki.codesigner),
    date: new Date(),
    reproducible: false,
    outDir: tmp('wapt-resign-py2-'),
    force: false,
  });
  await expect(verifyPackage(r.path, { trust: ours })).resolves.toMatchObject({ package: 'tis-py2hello', signer: 'test-codesigner' });
  expect((await readMember(r.path, 'données/été.txt')).equals(await readMember(src, 'données/été.txt'))).toBe(true);
  expect((await controlOf(r.path)).get('installed_size')).toBe('12345');
});

describe('refusals leave the file untouched', () => {
  test('altered package (payload edited) → MANIFEST_MISMATCH naming the member; file and out dir untouched', async () => {
    const dir = tmp('wapt-resign-alt-');
    const altered = await rewriteZip(join(CONF, 'repo', HELLO), join(dir, HELLO), { replace: { 'setup.py': 'import os\nos.system("evil")\n' } });
    const before = sha256File(altered);
    const outDir = tmp('wapt-resign-out-');
    let err: unknown;
    await resignPackage(altered, { signer: signerOf(pki.codesigner), date: new Date(), reproducible: false, outDir, force: false }).catch(
      (e: unknown) => (err = e),
    );
    expect(err).toBeInstanceOf(WaptError);
    expect((err as WaptError).code).toBe('MANIFEST_MISMATCH');
    expect((err as WaptError).message).toContain(HELLO);
    expect((err as WaptError).message).toContain('setup.py');
    expect(sha256File(altered)).toBe(before);
    expect(readdirSync(outDir)).toEqual([]);
    // in place too
    await expect(resignPackage(altered, { signer: signerOf(pki.codesigner), date: new Date(), reproducible: false, force: false })).rejects.toMatchObject({
      code: 'MANIFEST_MISMATCH',
    });
    expect(sha256File(altered)).toBe(before);
    expect(readdirSync(dir)).toEqual([HELLO]);
  });

  test('W-D5: a setup.py package re-signed with a deployer key → CODESIGNING_REQUIRED, file untouched', async () => {
    const p = copyHello();
    const before = sha256File(p);
    await expect(resignPackage(p, { signer: signerOf(pki.deployer), date: new Date(), reproducible: false, force: false })).rejects.toMatchObject({
      code: 'CODESIGNING_REQUIRED',
    });
    expect(sha256File(p)).toBe(before);
  });

  test('key not matching the certificate → KEY_CERT_MISMATCH, file untouched', async () => {
    const p = copyHello();
    const before = sha256File(p);
    await expect(
      resignPackage(p, { signer: { key: pki.deployer.privateKey, certificates: [pki.codesigner.cert] }, date: new Date(), reproducible: false, force: false }),
    ).rejects.toMatchObject({ code: 'KEY_CERT_MISMATCH' });
    expect(sha256File(p)).toBe(before);
  });
});

describe('--force over altered content', () => {
  test('resignPackage(force) signs it, warns with the altered member, and the result verifies (the signer vouches for it)', async () => {
    const altered = await rewriteZip(join(CONF, 'repo', HELLO), join(tmp('wapt-resign-f-'), HELLO), { add: { 'data/new.txt': 'added\n' } });
    const warnings: string[] = [];
    const r = await resignPackage(altered, {
      signer: signerOf(pki.codesigner),
      date: new Date(),
      reproducible: false,
      force: true,
      onWarning: (m) => warnings.push(m),
    });
    expect(r.forced).toBe(true);
    expect(warnings.join('\n')).toMatch(/ALTERED/);
    expect(warnings.join('\n')).toContain('data/new.txt');
    await expect(verifyPackage(r.path, { trust: ours })).resolves.toMatchObject({ signer: 'test-codesigner' });
  });

  test('`wapt-get sign --force` on an altered package: exit 0, stderr says FORCED/altered loudly; without --force exit 3 MANIFEST_MISMATCH', async () => {
    const dir = tmp('wapt-resign-cli-');
    const altered = await rewriteZip(join(CONF, 'repo', HELLO), join(dir, HELLO), { replace: { 'setup.py': '# changed\n' } });
    const before = sha256File(altered);
    const args = ['sign', altered, '--key', pki.codesigner.keyPath, '--cert', pki.codesigner.certPath];
    const refused = await runCli(args, { cwd: dir });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('[MANIFEST_MISMATCH]');
    expect(sha256File(altered)).toBe(before);
    const forced = await runCli([...args, '--force'], { cwd: dir });
    expect(forced.stderr).toMatch(/FORCED|ALTERED/);
    expect(forced.stderr + forced.stdout).toMatch(/altered/i);
    expect(forced.code).toBe(0);
    await expect(verifyPackage(altered, { trust: ours })).resolves.toMatchObject({ signer: 'test-codesigner' });
  });
});
