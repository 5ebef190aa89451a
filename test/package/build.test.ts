// build-package: what we write (W-A1b order, W-A3 name, W-D1 manifest, W-D2
// signature, W-E1 control) and what we refuse to write (W-D5, W-C1, symlinks,
// a key that is not the certificate's).
import { createHash, verify as rsaVerify } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { WaptError } from '../../src/errors.js';
import { fingerprintSha256, TrustStore } from '../../src/crypto/index.js';
import { buildPackage, parseControl, SIGNED_ATTRIBUTES, verifyPackage } from '../../src/package/index.js';
import { cleanupPki, getTestPki, signerOf, type TestPki } from '../helpers/pki.js';
import { buildFromSpec, readZipEntries, sha256, tempDir, writeSourceDir, type PackageSpec } from '../helpers/packages.js';

let pki: TestPki;
let trust: TrustStore;
const dirs: string[] = [];
const tmp = (prefix?: string) => {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  pki = await getTestPki();
  trust = await TrustStore.load(pki.trustedDir);
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  cleanupPki(pki);
});

const BASE: PackageSpec = {
  control: { package: 'tis-foundation', version: '1.2.3-4', maturity: 'PROD', description: 'A test package' },
  files: { 'setup.mjs': 'export async function install() {}\n', 'data/z.txt': 'zzz\n', 'data/a.txt': 'aaa\n', README: 'hello\n' },
};

async function expectBuildError(p: Promise<unknown>, code: string): Promise<WaptError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(WaptError);
    expect((err as WaptError).code).toBe(code);
    return err as WaptError;
  }
  throw new Error(`expected ${code}, the build succeeded`);
}

describe('a good build', () => {
  let built: Awaited<ReturnType<typeof buildFromSpec>>;
  let entries: Awaited<ReturnType<typeof readZipEntries>>;
  beforeAll(async () => {
    built = await buildFromSpec(BASE, signerOf(pki.codesigner), { outDir: tmp() });
    dirs.push(built.sourceDir);
    entries = await readZipEntries(built.path);
  });

  test('W-A3: output file is name_version_maturity.wapt in outDir', () => {
    expect(built.path.endsWith('/tis-foundation_1.2.3-4_PROD.wapt')).toBe(true);
    expect(existsSync(built.path)).toBe(true);
  });

  test('W-A3: architecture, maturity and locale join the name; `all` is left out', async () => {
    const r = await buildFromSpec(
      { control: { package: 'tis-extra', version: '0.9-2', architecture: 'x64', maturity: 'DEV', locale: 'fr' } },
      signerOf(pki.deployer),
      { outDir: tmp() },
    );
    dirs.push(r.sourceDir);
    expect(r.path.split('/').pop()).toBe('tis-extra_0.9-2_x64_DEV_fr.wapt');
  });

  test('W-A1b: payload first (sorted), then control, certificate, manifest, signature last', () => {
    expect(entries.map((e) => e.name)).toEqual([
      'README',
      'data/a.txt',
      'data/z.txt',
      'setup.mjs',
      'WAPT/control',
      'WAPT/certificate.crt',
      'WAPT/manifest.sha256',
      'WAPT/signature.sha256',
    ]);
  });

  test('W-D1: manifest lists every member but the excluded ones, with the sha256 of its bytes', () => {
    const manifest = JSON.parse(entries.find((e) => e.name === 'WAPT/manifest.sha256')!.data.toString('utf8')) as [string, string][];
    const listed = new Map(manifest);
    expect(listed.size).toBe(manifest.length);
    const expected = entries.filter((e) => !['WAPT/manifest.sha256', 'WAPT/signature.sha256'].includes(e.name));
    expect([...listed.keys()].sort()).toEqual(expected.map((e) => e.name).sort());
    for (const e of expected) expect(listed.get(e.name)).toBe(sha256(e.data));
    // compact separators (W-D1)
    expect(entries.find((e) => e.name === 'WAPT/manifest.sha256')!.data.toString()).not.toMatch(/[,:] /);
  });

  test('W-D2: signature is MIME base64 (76-column lines, final newline) of the manifest bytes', () => {
    const sigText = entries.find((e) => e.name === 'WAPT/signature.sha256')!.data.toString('ascii');
    const lines = sigText.split('\n');
    expect(lines.pop()).toBe(''); // ends with \n
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines.slice(0, -1)) expect(l).toHaveLength(76);
    expect(lines.at(-1)!.length).toBeLessThanOrEqual(76);
    const manifest = entries.find((e) => e.name === 'WAPT/manifest.sha256')!.data;
    expect(rsaVerify('sha256', manifest, pki.codesigner.cert.publicKey, Buffer.from(sigText, 'base64'))).toBe(true);
  });

  test('W-E1: control carries signed_attributes, signer, signer_fingerprint, signature_date, a UUID4 package_uuid', () => {
    const control = parseControl(entries.find((e) => e.name === 'WAPT/control')!.data.toString('utf8'));
    expect(control.get('signed_attributes')!.split(',')).toEqual([...SIGNED_ATTRIBUTES]);
    expect(SIGNED_ATTRIBUTES).toHaveLength(42);
    expect(control.get('signer')).toBe('test-codesigner');
    expect(control.get('signer_fingerprint')).toBe(fingerprintSha256(pki.codesigner.cert));
    expect(control.get('signer_fingerprint')).toBe(createHash('sha256').update(pki.codesigner.cert.raw).digest('hex'));
    expect(control.get('signature_date')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect(control.get('package_uuid')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(control.get('signature')).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(control.get('description')).toBe('A test package');
  });

  test('W-A1: certificate.crt is the signer PEM; the package verifies with our verifier', async () => {
    const pem = entries.find((e) => e.name === 'WAPT/certificate.crt')!.data.toString();
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    const v = await verifyPackage(built.path, { trust });
    expect(v).toMatchObject({ package: 'tis-foundation', version: '1.2.3-4', signer: 'test-codesigner', setupKind: 'mjs', codeSigning: true });
  });
});

describe('reproducible builds (SOURCE_DATE_EPOCH)', () => {
  const date = new Date(1_700_000_000 * 1000);

  test('two reproducible builds of one source give identical bytes; W-E4: mtime = signing date', async () => {
    const src = writeSourceDir(tmp('wapt-src-'), BASE);
    const [o1, o2] = [tmp(), tmp()];
    const a = await buildPackage(src, { signer: signerOf(pki.codesigner), outDir: o1, date, reproducible: true });
    const b = await buildPackage(src, { signer: signerOf(pki.codesigner), outDir: o2, date, reproducible: true });
    expect(sha256(readFileSync(a.path))).toBe(sha256(readFileSync(b.path)));
    expect(a.control.get('signature_date')).toBe('2023-11-14T22:13:20.000000');
    expect(statSync(a.path).mtimeMs).toBe(date.getTime());
  });

  test('without it, package_uuid is new each time so the bytes differ', async () => {
    const src = writeSourceDir(tmp('wapt-src-'), BASE);
    const a = await buildPackage(src, { signer: signerOf(pki.codesigner), outDir: tmp(), date, reproducible: false });
    const b = await buildPackage(src, { signer: signerOf(pki.codesigner), outDir: tmp(), date, reproducible: false });
    expect(a.control.get('package_uuid')).not.toBe(b.control.get('package_uuid'));
    expect(sha256(readFileSync(a.path))).not.toBe(sha256(readFileSync(b.path)));
  });
});

describe('refused builds write nothing', () => {
  test('W-D5: setup.mjs + deployer certificate → CODESIGNING_REQUIRED, no file written', async () => {
    const out = tmp();
    const src = writeSourceDir(tmp('wapt-src-'), BASE);
    const err = await expectBuildError(
      buildPackage(src, { signer: signerOf(pki.deployer), outDir: out, date: new Date(), reproducible: false }),
      'CODESIGNING_REQUIRED',
    );
    expect(err.message).toContain('setup.mjs');
    expect(err.message).toContain('test-deployer');
    expect(readdirSync(out)).toEqual([]);
  });

  test('W-D5: setup.py + deployer certificate → CODESIGNING_REQUIRED, no file written', async () => {
    const out = tmp();
    const src = writeSourceDir(tmp('wapt-src-'), { control: BASE.control, files: { 'setup.py': 'def install(): pass\n' } });
    const err = await expectBuildError(
      buildPackage(src, { signer: signerOf(pki.deployer), outDir: out, date: new Date(), reproducible: false }),
      'CODESIGNING_REQUIRED',
    );
    expect(err.message).toContain('setup.py');
    expect(readdirSync(out)).toEqual([]);
  });

  test('key of another certificate → KEY_CERT_MISMATCH, no file written', async () => {
    const out = tmp();
    const src = writeSourceDir(tmp('wapt-src-'), BASE);
    const signer = { key: pki.codesigner2.privateKey, certificates: [pki.codesigner.cert] };
    await expectBuildError(buildPackage(src, { signer, outDir: out, date: new Date(), reproducible: false }), 'KEY_CERT_MISMATCH');
    expect(readdirSync(out)).toEqual([]);
  });

  test('symlink in the source dir → ZIP_SYMLINK naming it, no file written', async () => {
    const out = tmp();
    const src = writeSourceDir(tmp('wapt-src-'), BASE);
    symlinkSync('/etc/passwd', join(src, 'data', 'passwd-link'));
    const err = await expectBuildError(
      buildPackage(src, { signer: signerOf(pki.codesigner), outDir: out, date: new Date(), reproducible: false }),
      'ZIP_SYMLINK',
    );
    expect(err.message).toContain('data/passwd-link');
    expect(readdirSync(out)).toEqual([]);
  });

  test('W-C1: control with an empty continuation line in description → CONTROL_INVALID (`depends` after it must not be dropped silently)', async () => {
    const out = tmp();
    const controlText = [
      'package           : tis-blank',
      'version           : 1.0-1',
      'description       : first line',
      ' ',
      ' third line',
      'depends           : tis-needed',
    ].join('\n');
    const src = writeSourceDir(tmp('wapt-src-'), { control: {}, controlText });
    const err = await expectBuildError(
      buildPackage(src, { signer: signerOf(pki.codesigner), outDir: out, date: new Date(), reproducible: false }),
      'CONTROL_INVALID',
    );
    expect(err.message).toMatch(/description|line 4|control/);
    expect(readdirSync(out)).toEqual([]);
  });

  test.each([
    ['small payload', { 'setup.py': 'def install(): pass\n' }],
    ['payload of several files', BASE.files!],
  ])('outDir that does not exist (%s) → created (mkdir -p) and the package written there, promptly (never a hang)', async (_t, files) => {
    const out = join(tmp(), 'not', 'yet');
    const src = writeSourceDir(tmp('wapt-src-'), { control: BASE.control, files });
    const build = buildPackage(src, { signer: signerOf(pki.codesigner), outDir: out, date: new Date(), reproducible: false });
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((resolve) => {
      timer = setTimeout(() => resolve('hang'), 5000);
    });
    const settled = await Promise.race([
      build.then(
        () => 'ok' as const,
        (err: unknown) => err,
      ),
      hang,
    ]);
    clearTimeout(timer);
    expect(settled).toBe('ok');
    expect(readdirSync(out)).toEqual(['tis-foundation_1.2.3-4_PROD.wapt']);
  });

  test('output stream fails mid-build (temp path taken by a directory) → IO_ERROR promptly (not an untyped SystemError from removing the temp path), never a hang, no package left', async () => {
    const out = tmp();
    const src = writeSourceDir(tmp('wapt-src-'), BASE);
    // ZipBuilder writes `<dest>.tmp-<pid>` first; a directory there makes the write stream fail.
    mkdirSync(join(out, `tis-foundation_1.2.3-4_PROD.wapt.tmp-${process.pid}`));
    const build = buildPackage(src, { signer: signerOf(pki.codesigner), outDir: out, date: new Date(), reproducible: false });
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((resolve) => {
      timer = setTimeout(() => resolve('hang'), 5000);
    });
    const settled = await Promise.race([
      build.then(
        () => 'ok' as const,
        (err: unknown) => err,
      ),
      hang,
    ]);
    clearTimeout(timer);
    expect(settled).toBeInstanceOf(WaptError);
    expect((settled as WaptError).code).toBe('IO_ERROR');
    expect(existsSync(join(out, 'tis-foundation_1.2.3-4_PROD.wapt'))).toBe(false);
  });

  test('source dir that does not exist → IO_ERROR naming it', async () => {
    const missing = join(tmp(), 'nope');
    const err = await expectBuildError(
      buildPackage(missing, { signer: signerOf(pki.codesigner), outDir: tmp(), date: new Date(), reproducible: false }),
      'IO_ERROR',
    );
    expect(err.message).toContain(missing);
  });
});

describe('already-compressed payload', () => {
  test('installer.msi and WAPT/icon.png build (stored, not deflated) and verify', async () => {
    const r = await buildFromSpec(
      {
        control: { package: 'tis-msi', version: '3.1-1' },
        files: {
          'installer.msi': Buffer.alloc(4096, 1),
          'WAPT/icon.png': Buffer.from('89504e470d0a1a0a', 'hex'),
          'setup.mjs': 'export async function install() {}\n',
        },
      },
      signerOf(pki.codesigner),
      { outDir: tmp() },
    );
    dirs.push(r.sourceDir);
    const entries = await readZipEntries(r.path);
    expect(entries.find((e) => e.name === 'installer.msi')?.deflated).toBe(false);
    expect(entries.find((e) => e.name === 'setup.mjs')?.deflated).toBe(true);
    await expect(verifyPackage(r.path, { trust })).resolves.toMatchObject({ package: 'tis-msi' });
  });
});

describe('non-ASCII member names', () => {
  test('W-A1b: données/été.txt round-trips: UTF-8 flag set, manifest escaped, verifies', async () => {
    const out = tmp();
    mkdirSync(out, { recursive: true });
    const r = await buildFromSpec(
      { control: { package: 'tis-accents', version: '1.0-1', description: 'Été à la plage' }, files: { 'données/été.txt': 'bonjour\n' } },
      signerOf(pki.deployer),
      { outDir: out },
    );
    dirs.push(r.sourceDir);
    const entries = await readZipEntries(r.path);
    const member = entries.find((e) => e.name === 'données/été.txt');
    expect(member?.utf8Flag).toBe(true);
    expect(member?.data.toString()).toBe('bonjour\n');
    const manifest = entries.find((e) => e.name === 'WAPT/manifest.sha256')!.data.toString('latin1');
    expect(manifest).toContain('"donn\\u00e9es/\\u00e9t\\u00e9.txt"');
    expect(/[^\x00-\x7f]/.test(manifest)).toBe(false);
    const control = parseControl(entries.find((e) => e.name === 'WAPT/control')!.data.toString('utf8'));
    expect(control.get('description')).toBe('Été à la plage');
    await expect(verifyPackage(r.path, { trust })).resolves.toMatchObject({ package: 'tis-accents', setupKind: 'none' });
  });
});
