// Every package real WAPT made verifies with our verifier against the
// conformance trusted/ directory, signed by the CN its README states; with an
// empty trusted directory every one is refused (README "What a correct
// implementation concludes").
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCertificates, TrustStore } from '../../src/crypto/index.js';
import { verifyPackage } from '../../src/package/index.js';
import { readMember, sha256File } from '../helpers/packages.js';

const FIX = resolve('fixtures/conformance');
const TRUSTED = join(FIX, 'wapt-made', 'trusted');

// [set, file, signer CN per the READMEs, setup kind, package, version]
const PACKAGES: [string, string, string, string, string, string][] = [
  ['wapt-made', 'tis-hello_1.2.3-4_PROD.wapt', 'conformance-codesigner', 'py', 'tis-hello', '1.2.3-4'],
  ['wapt-made', 'tis-hello_1.10.0-1_PROD.wapt', 'conformance-codesigner', 'py', 'tis-hello', '1.10.0-1'],
  ['wapt-made', 'tis-group-demo_3-1_PROD.wapt', 'conformance-deployer', 'none', 'tis-group-demo', '3-1'],
  ['wapt-made', 'tis-extra_0.9-2_x64_DEV_fr.wapt', 'conformance-deployer', 'none', 'tis-extra', '0.9-2'],
  ['wapt-made-py2', 'tis-py2hello_1.0-1_PROD.wapt', 'conformance-codesigner', 'py', 'tis-py2hello', '1.0-1'],
  ['wapt-made-py2', 'tis-py2group_5_PROD.wapt', 'conformance-deployer', 'none', 'tis-py2group', '5'],
  ['wapt-made-py2', 'tis-py2extra_2.1-3_x64_PREPROD_fr.wapt', 'conformance-deployer', 'none', 'tis-py2extra', '2.1-3'],
];

let trusted: TrustStore;
let empty: TrustStore;
let emptyDir: string;
beforeAll(async () => {
  trusted = await TrustStore.load(TRUSTED);
  emptyDir = mkdtempSync(join(tmpdir(), 'wapt-empty-trust-'));
  empty = await TrustStore.load(emptyDir);
});
afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

describe.each(PACKAGES)('%s/%s', (set, file, signer, setupKind, pkg, version) => {
  const path = join(FIX, set, 'repo', file);

  test(`verifies against wapt-made/trusted, signed by ${signer}, and the file is untouched`, async () => {
    const before = sha256File(path);
    const v = await verifyPackage(path, { trust: trusted });
    expect(v).toMatchObject({ package: pkg, version, signer, setupKind, codeSigning: signer === 'conformance-codesigner' });
    expect(v.chain).toEqual([signer, 'Conformance Test CA']);
    expect(sha256File(path)).toBe(before);
  });

  test('signer_fingerprint is the SHA-256 of the DER of the first certificate in WAPT/certificate.crt', async () => {
    const v = await verifyPackage(path, { trust: trusted });
    const [cert] = parseCertificates(await readMember(path, 'WAPT/certificate.crt'));
    expect(v.signerFingerprint).toBe(createHash('sha256').update(cert!.raw).digest('hex'));
    expect(v.control.get('signer_fingerprint')).toBe(v.signerFingerprint);
  });

  test('with an empty trusted directory → SIGNER_UNTRUSTED naming the signer', async () => {
    await expect(verifyPackage(path, { trust: empty })).rejects.toMatchObject({ code: 'SIGNER_UNTRUSTED', message: expect.stringContaining(signer) });
  });
});
