import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { X509Certificate } from 'node:crypto';
import {
  TrustStore,
  generateRsaKeyPair,
  issueCertificate,
  certificateToPem,
  commonName,
  fingerprintSha256,
  parseCertificates,
} from '../../src/crypto/index.js';
import { REPO, TRUSTED, fixture, makeCa, makeCrl, makeLeaf, tempDir, unzipMember, type Issued } from './helpers.js';

const [codesigner] = parseCertificates(fixture('keys', 'codesigner.crt'));
const [deployer] = parseCertificates(fixture('keys', 'deployer.crt'));
const [confCa] = parseCertificates(fixture('trusted', 'ca.crt'));
const DAY = 86_400_000;

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

function dirWith(files: Record<string, string | Buffer>): string {
  const d = join(tmp.dir, `trusted-${Math.random().toString(36).slice(2)}`);
  mkdirSync(d);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(d, name), data);
  return d;
}

describe('W-D4: the conformance certificates against fixtures/…/trusted', () => {
  test.each([
    ['codesigner', codesigner!],
    ['deployer', deployer!],
  ])('%s chains to trusted/ca.crt', async (_n, cert) => {
    const store = await TrustStore.load(TRUSTED);
    const { chain, anchor } = store.verifyChain(cert);
    expect(chain.map(commonName)).toEqual([commonName(cert), 'Conformance Test CA']);
    expect(fingerprintSha256(anchor)).toBe(fingerprintSha256(confCa!));
  });

  test('W-E1: signer_fingerprint in every package control and index entry names its certificate', () => {
    const packagesText = unzipMember(join(REPO, 'Packages'), 'Packages').toString('utf8');
    const indexFps = [...packagesText.matchAll(/^signer_fingerprint\s*:\s*(\S+)/gm)].map((m) => m[1]);
    expect(indexFps.sort()).toEqual(
      [fingerprintSha256(codesigner!), fingerprintSha256(codesigner!), fingerprintSha256(deployer!), fingerprintSha256(deployer!)].sort(),
    );
    for (const pkg of readdirSync(REPO).filter((f) => f.endsWith('.wapt'))) {
      const control = unzipMember(join(REPO, pkg), 'WAPT/control').toString('utf8');
      const fp = control.match(/^signer_fingerprint\s*:\s*(\S+)/m)![1];
      const [signer] = parseCertificates(unzipMember(join(REPO, pkg), 'WAPT/certificate.crt'));
      expect(fingerprintSha256(signer!)).toBe(fp);
    }
    for (const fp of new Set(indexFps)) {
      const [c] = parseCertificates(unzipMember(join(REPO, 'Packages'), `ssl/${fp}.crt`));
      expect(fingerprintSha256(c!)).toBe(fp);
    }
  });

  test('a store without ca.crt rejects them: SIGNER_UNTRUSTED naming signer CN and issuer', async () => {
    const store = await TrustStore.load(dirWith({ 'other.crt': certificateToPem((await makeCa('Other CA')).cert) }));
    expect(() => store.verifyChain(codesigner!)).toThrow(
      expect.objectContaining({ code: 'SIGNER_UNTRUSTED', message: expect.stringMatching(/conformance-codesigner.*Conformance Test CA/) }),
    );
    expect(() => store.verifyChain(deployer!)).toThrow(expect.objectContaining({ code: 'SIGNER_UNTRUSTED' }));
  });

  test('a trusted directory that does not exist is an empty store that trusts nothing', async () => {
    const store = await TrustStore.load(join(tmp.dir, 'nope'));
    expect(store.certificates).toHaveLength(0);
    expect(() => store.verifyChain(codesigner!)).toThrow(expect.objectContaining({ code: 'SIGNER_UNTRUSTED' }));
  });

  test('X4: a trusted non-CA certificate anchors only itself', () => {
    const store = TrustStore.fromCertificates([deployer!]);
    expect(store.verifyChain(deployer!).chain).toEqual([deployer]);
    expect(() => store.verifyChain(codesigner!)).toThrow(expect.objectContaining({ code: 'SIGNER_UNTRUSTED' }));
  });

  test('swapped certificate: same subject, issued by another CA with the same name → SIGNER_UNTRUSTED', async () => {
    const impostorCa = await makeCa('Conformance Test CA', 'wapt-get conformance');
    const impostor = await makeLeaf(impostorCa, 'conformance-codesigner', { organization: 'wapt-get conformance' });
    expect(impostor.cert.subject).toBe(codesigner!.subject);
    expect(impostor.cert.issuer).toBe(codesigner!.issuer);
    const store = await TrustStore.load(TRUSTED);
    expect(() => store.verifyChain(impostor.cert)).toThrow(expect.objectContaining({ code: 'SIGNER_UNTRUSTED' }));
    // …even when the impostor CA rides along as an "intermediate".
    expect(() => store.verifyChain(impostor.cert, [impostorCa.cert])).toThrow(expect.objectContaining({ code: 'SIGNER_UNTRUSTED' }));
  });
});

describe('chains through intermediates', () => {
  let root: Issued;
  let mid: Issued;
  let leaf: Issued;
  beforeAll(async () => {
    root = await makeCa('Root CA');
    mid = await makeLeaf(root, 'Sub CA', { isCa: true });
    leaf = await makeLeaf(mid, 'packager');
  });

  test('W-D4: signer → shipped intermediate → trusted root', () => {
    const store = TrustStore.fromCertificates([root.cert]);
    expect(store.verifyChain(leaf.cert, [mid.cert]).chain.map(commonName)).toEqual(['packager', 'Sub CA', 'Root CA']);
  });

  test('without the intermediate → SIGNER_UNTRUSTED', () => {
    expect(() => TrustStore.fromCertificates([root.cert]).verifyChain(leaf.cert)).toThrow(expect.objectContaining({ code: 'SIGNER_UNTRUSTED' }));
  });

  test('a trusted intermediate is an anchor by itself', () => {
    const r = TrustStore.fromCertificates([mid.cert]).verifyChain(leaf.cert);
    expect(commonName(r.anchor)).toBe('Sub CA');
  });

  test('an "intermediate" that is not CA:TRUE cannot issue → SIGNER_UNTRUSTED', async () => {
    const notCa = await makeLeaf(root, 'leaf acting as CA'); // has keyCertSign (W-D6) but CA:FALSE
    const child = await makeLeaf(notCa, 'child');
    expect(child.cert.checkIssued(notCa.cert)).toBe(true); // names and key ids line up…
    expect(() => TrustStore.fromCertificates([root.cert]).verifyChain(child.cert, [notCa.cert])).toThrow(expect.objectContaining({ code: 'SIGNER_UNTRUSTED' }));
  });

  test('X4: expired signer → CERT_EXPIRED naming the signer and its dates', async () => {
    const old = await makeLeaf(mid, 'old signer', { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    const store = TrustStore.fromCertificates([root.cert]);
    expect(() => store.verifyChain(old.cert, [mid.cert])).toThrow(
      expect.objectContaining({ code: 'CERT_EXPIRED', message: expect.stringMatching(/signer certificate "old signer" has expired \(valid from .* to .*\)/) }),
    );
    // Ten days ago the signer was valid but its intermediate (made today) was not: X4 checks every link.
    expect(() => store.verifyChain(old.cert, [mid.cert], { at: new Date(Date.now() - 10 * DAY) })).toThrow(
      expect.objectContaining({ code: 'CERT_NOT_YET_VALID', message: expect.stringContaining('intermediate certificate "Sub CA"') }),
    );
  });

  test('the `at` option: a chain valid in the past verifies at that instant', async () => {
    const kp = await generateRsaKeyPair();
    const span = { notBefore: new Date(Date.now() - 60 * DAY), notAfter: new Date(Date.now() - 20 * DAY) };
    const oldRoot = {
      cert: await issueCertificate({ commonName: 'Old Root', publicKey: kp.publicKey, privateKey: kp.privateKey, codeSigning: false, isCa: true, ...span }),
      privateKey: kp.privateKey,
    };
    const old = await makeLeaf(oldRoot, 'old signer', span);
    const store = TrustStore.fromCertificates([oldRoot.cert]);
    expect(store.verifyChain(old.cert, [], { at: new Date(Date.now() - 30 * DAY) }).chain.map(commonName)).toEqual(['old signer', 'Old Root']);
    expect(() => store.verifyChain(old.cert)).toThrow(expect.objectContaining({ code: 'CERT_EXPIRED' }));
  });

  test('X4: expired intermediate (signer still valid) → CERT_EXPIRED naming the intermediate', async () => {
    const oldMid = await makeLeaf(root, 'Old Sub CA', { isCa: true, notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    const fresh = await makeLeaf(oldMid, 'fresh signer');
    expect(() => TrustStore.fromCertificates([root.cert]).verifyChain(fresh.cert, [oldMid.cert])).toThrow(
      expect.objectContaining({ code: 'CERT_EXPIRED', message: expect.stringContaining('intermediate certificate "Old Sub CA"') }),
    );
  });

  test('X4: a not-yet-valid signer → CERT_NOT_YET_VALID', async () => {
    const future = await makeLeaf(mid, 'future', { notBefore: new Date(Date.now() + 2 * DAY), notAfter: new Date(Date.now() + 30 * DAY) });
    expect(() => TrustStore.fromCertificates([root.cert]).verifyChain(future.cert, [mid.cert])).toThrow(
      expect.objectContaining({ code: 'CERT_NOT_YET_VALID' }),
    );
  });

  test('the cached result is re-checked against the exact instant', () => {
    const store = TrustStore.fromCertificates([root.cert]);
    expect(store.verifyChain(leaf.cert, [mid.cert]).chain).toHaveLength(3);
    const afterExpiry = new Date(leaf.cert.validTo);
    afterExpiry.setTime(afterExpiry.getTime() + 1000);
    expect(() => store.verifyChain(leaf.cert, [mid.cert], { at: afterExpiry })).toThrow(expect.objectContaining({ code: 'CERT_EXPIRED' }));
  });

  test('many verifications of the same signer are served from the cache (5000 in well under a second)', () => {
    const store = TrustStore.fromCertificates([root.cert]);
    const start = process.hrtime.bigint();
    for (let i = 0; i < 5000; i++) store.verifyChain(leaf.cert, [mid.cert]);
    expect(Number(process.hrtime.bigint() - start) / 1e6).toBeLessThan(1000);
  });
});

describe('X3: CRLs in the trusted directory', () => {
  let root: Issued;
  let mid: Issued;
  let signer: Issued;
  let other: Issued;
  beforeAll(async () => {
    root = await makeCa('CRL Root');
    mid = await makeLeaf(root, 'CRL Sub', { isCa: true });
    signer = await makeLeaf(root, 'revoked signer');
    other = await makeLeaf(root, 'good signer');
  });

  test.each(['pem', 'der'] as const)('a %s CRL (X509CrlGenerator) in a .crl file revokes the signer → CERT_REVOKED', async (format) => {
    const crl = await makeCrl(root, [signer.cert], { format });
    const store = await TrustStore.load(dirWith({ 'root.crt': certificateToPem(root.cert), 'root.crl': crl }));
    expect(store.crlCount).toBe(1);
    expect(() => store.verifyChain(signer.cert)).toThrow(
      expect.objectContaining({ code: 'CERT_REVOKED', message: expect.stringContaining('signer certificate "revoked signer"') }),
    );
    expect(store.verifyChain(other.cert).chain).toHaveLength(2);
  });

  test('a PEM CRL inside a .pem file next to the CA certificate is honoured', async () => {
    const bundle = certificateToPem(root.cert) + (await makeCrl(root, [signer.cert])).toString();
    const store = await TrustStore.load(dirWith({ 'root.pem': bundle }));
    expect(store.certificates).toHaveLength(1);
    expect(() => store.verifyChain(signer.cert)).toThrow(expect.objectContaining({ code: 'CERT_REVOKED' }));
  });

  test('a revoked intermediate → CERT_REVOKED naming the intermediate', async () => {
    const leaf = await makeLeaf(mid, 'under revoked sub');
    const store = TrustStore.fromCertificates([root.cert], [await makeCrl(root, [mid.cert])]);
    expect(() => store.verifyChain(leaf.cert, [mid.cert])).toThrow(
      expect.objectContaining({ code: 'CERT_REVOKED', message: expect.stringContaining('intermediate certificate "CRL Sub"') }),
    );
  });

  test('a CRL signed by another key (same issuer name) is ignored with a warning', async () => {
    const forger = await makeCa('forger');
    const forged = await makeCrl(root, [other.cert], { signWith: forger.privateKey });
    const warnings: string[] = [];
    const store = await TrustStore.load(dirWith({ 'root.crt': certificateToPem(root.cert), 'forged.crl': forged }), { onWarning: (m) => warnings.push(m) });
    expect(store.verifyChain(other.cert).chain).toHaveLength(2);
    expect(warnings).toEqual([expect.stringMatching(/forged\.crl.*does not verify/)]);
  });

  test('an expired CRL is still honoured, with a warning', async () => {
    const stale = await makeCrl(root, [signer.cert], { thisUpdate: new Date(Date.now() - 20 * DAY), nextUpdate: new Date(Date.now() - 10 * DAY) });
    const warnings: string[] = [];
    const store = TrustStore.fromCertificates([root.cert], [stale], { onWarning: (m) => warnings.push(m) });
    expect(() => store.verifyChain(signer.cert)).toThrow(expect.objectContaining({ code: 'CERT_REVOKED' }));
    expect(warnings).toEqual([expect.stringContaining('expired')]);
  });

  test('a CRL of an unrelated CA revokes nothing', async () => {
    const unrelated = await makeCa('Unrelated');
    const store = TrustStore.fromCertificates([root.cert, unrelated.cert], [await makeCrl(unrelated, [signer.cert])]);
    expect(store.verifyChain(signer.cert).chain).toHaveLength(2);
  });

  test('garbage given as a CRL to fromCertificates → CERT_INVALID', () => {
    expect(() => TrustStore.fromCertificates([root.cert], [Buffer.from('not a crl')])).toThrow(expect.objectContaining({ code: 'CERT_INVALID' }));
  });
});

describe('TrustStore.load', () => {
  test('reads *.crt and *.pem, skips other extensions and sub-directories, warns on an unreadable file', async () => {
    const a = await makeCa('A');
    const b = await makeCa('B');
    const d = dirWith({
      'a.crt': certificateToPem(a.cert),
      'b.pem': certificateToPem(b.cert),
      'c.txt': certificateToPem((await makeCa('C')).cert),
      'junk.crt': 'nonsense',
    });
    mkdirSync(join(d, 'sub'));
    copyFileSync(join(TRUSTED, 'ca.crt'), join(d, 'sub', 'ca.crt'));
    const warnings: string[] = [];
    const store = await TrustStore.load(d, { onWarning: (m) => warnings.push(m) });
    expect(store.certificates.map(commonName).sort()).toEqual(['A', 'B']);
    expect(warnings).toEqual([expect.stringContaining('junk.crt')]);
    expect(() => store.verifyChain(codesigner!)).toThrow(expect.objectContaining({ code: 'SIGNER_UNTRUSTED' }));
  });

  test('a DER certificate named .crt is read too', async () => {
    const store = await TrustStore.load(dirWith({ 'ca.crt': confCa!.raw }));
    expect(store.verifyChain(codesigner!).chain).toHaveLength(2);
  });

  test('a certificate bundle in one .pem gives several anchors; duplicates count once', async () => {
    const store = await TrustStore.load(dirWith({ 'all.pem': certificateToPem(confCa!) + certificateToPem(deployer!), 'ca.crt': certificateToPem(confCa!) }));
    expect(store.certificates.map((c: X509Certificate) => commonName(c)).sort()).toEqual(['Conformance Test CA', 'conformance-deployer']);
    expect(store.hasFingerprint(fingerprintSha256(confCa!))).toBe(true);
  });
});
