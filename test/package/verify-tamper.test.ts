// Verification refuses every tampered package (W-D3..W-D5, W-E3, X3, X4) with
// the exact error code, a message naming the file or member, and never touches
// the file it was given. Each bad package is derived from one good build with
// ordinary zip tools (yauzl/yazl) or the raw evil-zip writer.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { WaptError } from '../../src/errors.js';
import { certificateToPem, TrustStore } from '../../src/crypto/index.js';
import { verifyPackage, type VerifiedPackage } from '../../src/package/index.js';
import { makeCrl } from '../crypto/helpers.js';
import { buildEvilZip, truncateFile, writeEvilZip, type EvilEntry } from '../helpers/evil-zip.js';
import { cleanupPki, getTestPki, signerOf, type TestPki } from '../helpers/pki.js';
import { buildFromSpec, editControlField, forgePackage, readZipEntries, rewriteZip, sha256File, tempDir, type PackageSpec } from '../helpers/packages.js';

let pki: TestPki;
let trust: TrustStore;
let work: string;
let good: string; // code-signed, with setup.mjs
let goodNoSetup: string; // deployer-signed, no setup code
const cleanup: string[] = [];

const SPEC: PackageSpec = {
  control: { package: 'tis-tamper', version: '2.0-1', maturity: 'PROD', depends: 'tis-base', description: 'target of the tamper tests' },
  files: { 'setup.mjs': 'export async function install() {}\n', 'data/a.txt': 'original a\n', 'data/b.txt': 'original b\n' },
};

beforeAll(async () => {
  pki = await getTestPki();
  trust = await TrustStore.load(pki.trustedDir);
  work = tempDir('wapt-tamper-');
  const a = await buildFromSpec(SPEC, signerOf(pki.codesigner), { outDir: work });
  const b = await buildFromSpec({ control: { package: 'tis-nocode', version: '1-1' }, files: { 'data/a.txt': 'x\n' } }, signerOf(pki.deployer), {
    outDir: work,
  });
  good = a.path;
  goodNoSetup = b.path;
  cleanup.push(a.sourceDir, b.sourceDir);
});
afterAll(() => {
  for (const d of [work, ...cleanup]) rmSync(d, { recursive: true, force: true });
  cleanupPki(pki);
});

let n = 0;
const out = (label: string) => join(work, `${++n}-${label}.wapt`);

/** Verification must fail with `code`; the file is neither modified nor deleted ("loses nothing"). */
async function expectRejected(path: string, code: string, store: TrustStore = trust): Promise<WaptError> {
  const before = sha256File(path);
  let caught: unknown;
  try {
    await verifyPackage(path, { trust: store });
  } catch (err) {
    caught = err;
  }
  expect(existsSync(path)).toBe(true);
  expect(sha256File(path)).toBe(before);
  if (!caught) throw new Error(`expected ${code}, ${basename(path)} verified`);
  expect(caught).toBeInstanceOf(WaptError);
  expect((caught as WaptError).code).toBe(code);
  return caught as WaptError;
}

describe('baseline', () => {
  test('the untampered packages verify, and verifying loses nothing (same sha256 before/after)', async () => {
    const before = sha256File(good);
    const v: VerifiedPackage = await verifyPackage(good, { trust });
    expect(v).toMatchObject({
      package: 'tis-tamper',
      version: '2.0-1',
      signer: 'test-codesigner',
      setupKind: 'mjs',
      chain: ['test-codesigner', 'Test Foundation CA'],
    });
    expect(sha256File(good)).toBe(before);
    await expect(verifyPackage(goodNoSetup, { trust })).resolves.toMatchObject({ signer: 'test-deployer', setupKind: 'none' });
  });

  test('a package rewritten with no change still verifies (the rewriting itself is not what fails)', async () => {
    const p = await rewriteZip(good, out('noop'), {});
    await expect(verifyPackage(p, { trust })).resolves.toMatchObject({ package: 'tis-tamper' });
  });
});

describe('W-D3: content against the manifest', () => {
  test('modified payload file → MANIFEST_MISMATCH, detail.modified names it', async () => {
    const p = await rewriteZip(good, out('modified'), { replace: { 'data/a.txt': 'EVIL a\n' } });
    const err = await expectRejected(p, 'MANIFEST_MISMATCH');
    expect(err.detail).toMatchObject({ modified: ['data/a.txt'], missing: [], extra: [] });
    expect(err.message).toContain(basename(p));
    expect(err.message).toContain('data/a.txt');
  });

  test('added file → MANIFEST_MISMATCH, detail.extra names it', async () => {
    const p = await rewriteZip(good, out('added'), { add: { 'data/evil.txt': 'boo\n' } });
    const err = await expectRejected(p, 'MANIFEST_MISMATCH');
    expect(err.detail).toMatchObject({ modified: [], missing: [], extra: ['data/evil.txt'] });
    expect(err.message).toContain('data/evil.txt');
  });

  test('removed file → MANIFEST_MISMATCH, detail.missing names it', async () => {
    const p = await rewriteZip(good, out('removed'), { remove: ['data/b.txt'] });
    const err = await expectRejected(p, 'MANIFEST_MISMATCH');
    expect(err.detail).toMatchObject({ modified: [], missing: ['data/b.txt'], extra: [] });
    expect(err.message).toContain('data/b.txt');
  });

  test('control edited outside the signed attributes (extra line) → MANIFEST_MISMATCH on WAPT/control', async () => {
    const p = await rewriteZip(good, out('control-extra'), {
      replace: { 'WAPT/control': (old) => Buffer.concat([old, Buffer.from('\nx_injected        : 1')]) },
    });
    const err = await expectRejected(p, 'MANIFEST_MISMATCH');
    expect(err.detail).toMatchObject({ modified: ['WAPT/control'] });
    expect(err.message).toContain('WAPT/control');
  });

  test('missing WAPT/manifest.sha256 → MANIFEST_INVALID naming it', async () => {
    const p = await rewriteZip(good, out('no-manifest'), { remove: ['WAPT/manifest.sha256'] });
    const err = await expectRejected(p, 'MANIFEST_INVALID');
    expect(err.message).toContain(basename(p));
    expect(err.message).toContain('WAPT/manifest.sha256');
  });

  test('manifest that is not JSON → MANIFEST_INVALID', async () => {
    const p = await rewriteZip(good, out('manifest-garbage'), { replace: { 'WAPT/manifest.sha256': 'not json' } });
    const err = await expectRejected(p, 'MANIFEST_INVALID');
    expect(err.message).toContain('WAPT/manifest.sha256');
  });
});

describe('W-D2/W-D3: the manifest signature', () => {
  test('control field edited (version) and the manifest re-hashed, but not re-signed → SIGNATURE_INVALID', async () => {
    const p = await forgePackage(good, out('control-rehash'), { replace: { 'WAPT/control': editControlField('version', '9.9-9') } });
    const err = await expectRejected(p, 'SIGNATURE_INVALID');
    expect(err.message).toContain(basename(p));
    expect(err.message).toContain('WAPT/signature.sha256');
  });

  test('depends edited only (manifest untouched) → rejected by the control signature (CONTROL_SIGNATURE_INVALID) before the manifest', async () => {
    const p = await rewriteZip(good, out('depends-edit'), { replace: { 'WAPT/control': editControlField('depends', 'tis-base,tis-evil') } });
    const err = await expectRejected(p, 'CONTROL_SIGNATURE_INVALID');
    expect(err.message).toContain('tis-tamper');
  });

  test('manifest edited (one hash changed) → SIGNATURE_INVALID', async () => {
    const p = await rewriteZip(good, out('manifest-edit'), {
      replace: { 'WAPT/manifest.sha256': (old) => old.toString().replace(/"([0-9a-f])/, (_m, c: string) => `"${c === '0' ? '1' : '0'}`) },
    });
    const err = await expectRejected(p, 'SIGNATURE_INVALID');
    expect(err.message).toContain('WAPT/signature.sha256');
  });

  test('signature bytes flipped → SIGNATURE_INVALID', async () => {
    const p = await rewriteZip(good, out('sig-flip'), {
      replace: {
        'WAPT/signature.sha256': (old) => {
          const raw = Buffer.from(old.toString(), 'base64');
          raw[10] = raw[10]! ^ 0xff;
          return raw.toString('base64') + '\n';
        },
      },
    });
    await expectRejected(p, 'SIGNATURE_INVALID');
  });

  test('certificate.crt swapped for another valid certificate of the same CA → SIGNATURE_INVALID', async () => {
    const p = await rewriteZip(good, out('cert-swap'), { replace: { 'WAPT/certificate.crt': certificateToPem(pki.codesigner2.cert) } });
    const err = await expectRejected(p, 'SIGNATURE_INVALID');
    expect(err.message).toContain('test-codesigner-2');
  });

  test('signature member missing → SIGNATURE_INVALID naming it', async () => {
    const p = await rewriteZip(good, out('no-sig'), { remove: ['WAPT/signature.sha256'] });
    const err = await expectRejected(p, 'SIGNATURE_INVALID');
    expect(err.message).toContain('WAPT/signature.sha256');
  });
});

describe('W-E3/X4: an attacker with his own key', () => {
  const attacker = () => signerOf(pki.otherSigner);

  test('control edited, manifest re-signed by an untrusted key, certificate.crt swapped → SIGNER_UNTRUSTED (signer_fingerprint names a certificate not supplied)', async () => {
    const p = await forgePackage(good, out('attacker-manifest'), { replace: { 'WAPT/control': editControlField('version', '9.9-9') } }, { signer: attacker() });
    const err = await expectRejected(p, 'SIGNER_UNTRUSTED');
    expect(err.message).toContain('tis-tamper');
  });

  test('control and manifest both re-signed by the attacker → SIGNER_UNTRUSTED (no chain to the trusted CA)', async () => {
    const p = await forgePackage(
      good,
      out('attacker-all'),
      { replace: { 'WAPT/control': editControlField('version', '9.9-9') } },
      { signer: attacker(), resignControl: true },
    );
    const err = await expectRejected(p, 'SIGNER_UNTRUSTED');
    expect(err.message).toContain('attacker-codesigner');
  });

  test('control edited, manifest re-signed by the attacker who ships the genuine certificate after his own → CONTROL_SIGNATURE_INVALID', async () => {
    const signer = { key: pki.otherSigner.privateKey, certificates: [pki.otherSigner.cert, pki.codesigner.cert] };
    const p = await forgePackage(good, out('attacker-both-certs'), { replace: { 'WAPT/control': editControlField('version', '9.9-9') } }, { signer });
    const err = await expectRejected(p, 'CONTROL_SIGNATURE_INVALID');
    expect(err.message).toContain('tis-tamper');
  });

  test('payload swapped, genuine control kept, manifest re-signed by the attacker (genuine cert shipped too) → SIGNER_MISMATCH', async () => {
    const signer = { key: pki.otherSigner.privateKey, certificates: [pki.otherSigner.cert, pki.codesigner.cert] };
    const p = await forgePackage(good, out('attacker-payload'), { replace: { 'data/a.txt': 'EVIL\n' } }, { signer });
    const err = await expectRejected(p, 'SIGNER_MISMATCH');
    expect(err.message).toContain(basename(p));
  });
});

describe('W-D4/X3/X4: trust, dates, revocation', () => {
  test('signer not trusted (empty trusted dir) → SIGNER_UNTRUSTED naming the signer', async () => {
    const err = await expectRejected(good, 'SIGNER_UNTRUSTED', await TrustStore.load(pki.emptyTrustedDir));
    expect(err.message).toContain('test-codesigner');
  });

  test('signer not trusted (store holds only another CA) → SIGNER_UNTRUSTED', async () => {
    const err = await expectRejected(good, 'SIGNER_UNTRUSTED', TrustStore.fromCertificates([pki.otherCa.cert]));
    expect(err.message).toContain('Test Foundation CA');
  });

  test('expired signer → CERT_EXPIRED naming it', async () => {
    const r = await buildFromSpec(SPEC, signerOf(pki.expired), { outDir: tempDir() });
    cleanup.push(r.sourceDir, dirname(r.path));
    const err = await expectRejected(r.path, 'CERT_EXPIRED');
    expect(err.message).toContain('test-expired');
  });

  test('revoked signer via a CRL in the trusted dir → CERT_REVOKED naming it and the CRL', async () => {
    const dir = join(work, 'trusted-crl');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(join(dir, 'ca.crt'), certificateToPem(pki.ca.cert));
    writeFileSync(join(dir, 'ca.crl'), await makeCrl(pki.ca, [pki.codesigner.cert]));
    const err = await expectRejected(good, 'CERT_REVOKED', await TrustStore.load(dir));
    expect(err.message).toContain('test-codesigner');
    expect(err.message).toContain('ca.crl');
    // the same CRL does not touch another signer of that CA
    await expect(verifyPackage(goodNoSetup, { trust: await TrustStore.load(dir) })).resolves.toMatchObject({ signer: 'test-deployer' });
  });
});

describe('W-D5: code-signing rule at verification', () => {
  test('deployer-signed package with setup.mjs added and manifest re-signed by the deployer (otherwise valid) → CODESIGNING_REQUIRED', async () => {
    const p = await forgePackage(
      goodNoSetup,
      out('deployer-setup'),
      { add: { 'setup.mjs': 'export async function install() { /* evil */ }\n' } },
      { signer: signerOf(pki.deployer) },
    );
    const err = await expectRejected(p, 'CODESIGNING_REQUIRED');
    expect(err.message).toContain(basename(p));
    expect(err.message).toContain('test-deployer');
    // the control was not touched: only the code-signing rule stands in the way
    await expect(
      verifyPackage(await forgePackage(goodNoSetup, out('deployer-noop'), {}, { signer: signerOf(pki.deployer) }), { trust }),
    ).resolves.toMatchObject({ setupKind: 'none' });
  });

  test('a setup.py package signed by a code-signer verifies (SETUP_PY is refused only at install)', async () => {
    const r = await buildFromSpec(
      { control: { package: 'tis-py', version: '1-1' }, files: { 'setup.py': 'def install():\n    pass\n' } },
      signerOf(pki.codesigner),
      { outDir: tempDir() },
    );
    cleanup.push(r.sourceDir, dirname(r.path));
    await expect(verifyPackage(r.path, { trust })).resolves.toMatchObject({ package: 'tis-py', setupKind: 'py', codeSigning: true });
  });
});

describe('W-A1: hostile zips', () => {
  /** The good package's members plus/minus raw entries, written by the raw zip writer. */
  async function evilFromGood(label: string, extra: EvilEntry[], drop: string[] = []): Promise<string> {
    const entries = (await readZipEntries(good)).filter((e) => !drop.includes(e.name));
    const p = out(label);
    await writeEvilZip(p, [...extra, ...entries.map((e) => ({ name: e.name, data: e.data, method: 'deflate' as const }))]);
    return p;
  }

  test('truncated zip → ZIP_INVALID naming the file', async () => {
    const p = out('truncated');
    writeFileSync(p, readFileSync(good));
    await truncateFile(p, 0.6);
    const err = await expectRejected(p, 'ZIP_INVALID');
    expect(err.message).toContain(basename(p));
  });

  test('not a zip at all → ZIP_INVALID naming the file', async () => {
    const p = out('not-a-zip');
    writeFileSync(p, 'this is a text file, not a package\n'.repeat(20));
    const err = await expectRejected(p, 'ZIP_INVALID');
    expect(err.message).toContain(basename(p));
  });

  test.each([['../x'], ['/abs'], ['C:/x'], ['a\\b'], ['data/../../x']])('path traversal name %s → ZIP_UNSAFE_PATH naming it', async (name) => {
    const p = await evilFromGood('unsafe', [{ name, data: Buffer.from('x') }]);
    const err = await expectRejected(p, 'ZIP_UNSAFE_PATH');
    expect(err.message).toContain(JSON.stringify(name));
  });

  test('symlink entry → ZIP_SYMLINK naming it', async () => {
    const p = await evilFromGood('symlink', [{ name: 'data/link', data: Buffer.from('/etc/shadow'), mode: 0o120777 }]);
    const err = await expectRejected(p, 'ZIP_SYMLINK');
    expect(err.message).toContain('data/link');
    expect(err.message).toContain(basename(p));
  });

  test('duplicate entry names (data/a.txt twice) → ZIP_DUPLICATE_ENTRY naming it', async () => {
    const p = await evilFromGood('dup', [{ name: 'data/a.txt', data: Buffer.from('shadow copy\n') }]);
    const err = await expectRejected(p, 'ZIP_DUPLICATE_ENTRY');
    expect(err.message).toContain('data/a.txt');
  });

  test('duplicate by case (DATA/A.txt beside data/a.txt, one file on Windows) → ZIP_DUPLICATE_ENTRY', async () => {
    const p = await evilFromGood('dup-case', [{ name: 'DATA/A.txt', data: Buffer.from('shadow copy\n') }]);
    const err = await expectRejected(p, 'ZIP_DUPLICATE_ENTRY');
    expect(err.message).toContain('DATA/A.txt');
  });

  test('zip bomb by ratio (8 MiB of zeros) → ZIP_BOMB naming the member', async () => {
    const p = await evilFromGood('ratio-bomb', [{ name: 'data/zeros.bin', data: Buffer.alloc(8 << 20), method: 'deflate' }]);
    const err = await expectRejected(p, 'ZIP_BOMB');
    expect(err.message).toContain('data/zeros.bin');
  });

  test('zip bomb by declared size (member inflates past its declared 1000 bytes) in an otherwise valid package → ZIP_BOMB', async () => {
    const p = await evilFromGood('size-lie', [{ name: 'data/lie.bin', data: Buffer.alloc(600_000, 7), declaredSize: 1000, method: 'deflate' }]);
    const err = await expectRejected(p, 'ZIP_BOMB');
    expect(err.message).toContain('data/lie.bin');
    expect(err.message).toContain('declared');
  });

  test('the raw writer makes valid zips: the good members alone still verify', async () => {
    const p = out('raw-good');
    const entries = await readZipEntries(good);
    writeFileSync(p, buildEvilZip(entries.map((e) => ({ name: e.name, data: e.data, method: 'deflate' as const }))));
    await expect(verifyPackage(p, { trust })).resolves.toMatchObject({ package: 'tis-tamper' });
  });
});
