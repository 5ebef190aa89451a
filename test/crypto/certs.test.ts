import type { X509Certificate } from 'node:crypto';
import {
  TrustStore,
  loadPrivateKey,
  generateRsaKeyPair,
  createCaCertificate,
  issueCertificate,
  certificateToPem,
  parseCertificates,
  fingerprintSha256,
  commonName,
  isCodeSigning,
  isCa,
  validityOf,
} from '../../src/crypto/index.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, openssl, tempDir } from './helpers.js';

const tmp = tempDir();
const scratch = tmp.dir;
afterAll(() => tmp.cleanup());

function text(cert: X509Certificate): string {
  return openssl(['x509', '-noout', '-text'], certificateToPem(cert));
}

/** The lines of one extension block in `openssl x509 -text` output. */
function ext(out: string, name: string): string {
  const m = out.match(new RegExp(`X509v3 ${name}:( critical)?[ \\t]*\\n\\s*(.*)`));
  if (!m) throw new Error(`no ${name} in\n${out}`);
  return `${m[1] ? 'critical ' : ''}${m[2]}`;
}

describe('W-D6: certificates we issue, read back by openssl', () => {
  let ca: X509Certificate;
  let caKey: Awaited<ReturnType<typeof generateRsaKeyPair>>;
  beforeAll(async () => {
    caKey = await generateRsaKeyPair();
    ca = await createCaCertificate({ commonName: 'Test CA', key: caKey, organization: 'wapt-get tests', days: 30 });
  });

  test('CA: basicConstraints CA:TRUE critical, keyCertSign + cRLSign, SKI, RSA 2048 / SHA-256, self-signed', () => {
    const out = text(ca);
    expect(ext(out, 'Basic Constraints')).toBe('critical CA:TRUE');
    expect(ext(out, 'Key Usage')).toMatch(/Certificate Sign, CRL Sign/);
    expect(out).toMatch(/X509v3 Subject Key Identifier/);
    expect(out).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(out).toMatch(/Public-Key: \(2048 bit\)/);
    expect(out).toMatch(/Subject: O = wapt-get tests, CN = Test CA/);
    expect(isCa(ca)).toBe(true);
    expect(isCodeSigning(ca)).toBe(false);
    expect(ca.checkIssued(ca)).toBe(true);
  });

  test('CA validity spans the requested days', () => {
    const { notBefore, notAfter } = validityOf(ca);
    expect(Math.round((notAfter.getTime() - notBefore.getTime()) / 86_400_000)).toBe(30);
  });

  test('code-signing leaf: CA:FALSE critical, EKU codeSigning critical, the five key usages, SKI + AKI = CA SKI', async () => {
    const { publicKey } = await generateRsaKeyPair();
    const leaf = await issueCertificate({ commonName: 'signer one', publicKey, codeSigning: true, issuer: { cert: ca, privateKey: caKey.privateKey } });
    const out = text(leaf);
    expect(ext(out, 'Basic Constraints')).toBe('critical CA:FALSE');
    expect(ext(out, 'Extended Key Usage')).toBe('critical Code Signing');
    expect(ext(out, 'Key Usage')).toBe('critical Digital Signature, Non Repudiation, Data Encipherment, Certificate Sign, CRL Sign');
    const caSki = ext(text(ca), 'Subject Key Identifier');
    expect(ext(out, 'Authority Key Identifier')).toContain(caSki);
    expect(ext(out, 'Subject Key Identifier')).not.toBe(caSki);
    expect(isCodeSigning(leaf)).toBe(true);
    expect(isCa(leaf)).toBe(false);
    // openssl agrees it chains: a real peer verifying our extensions and signature.
    expect(openssl(['verify', '-CAfile', writeTmp(ca), '-no-CApath', '-no-CAstore', writeTmp(leaf)])).toMatch(/: OK/);
  });

  test('deployer leaf: no Extended Key Usage at all (as WAPT), CA:FALSE critical, SKI + AKI', async () => {
    const { publicKey } = await generateRsaKeyPair();
    const leaf = await issueCertificate({ commonName: 'deployer one', publicKey, codeSigning: false, issuer: { cert: ca, privateKey: caKey.privateKey } });
    const out = text(leaf);
    expect(out).not.toMatch(/Extended Key Usage/);
    expect(ext(out, 'Basic Constraints')).toBe('critical CA:FALSE');
    expect(out).toMatch(/Subject Key Identifier/);
    expect(out).toMatch(/Authority Key Identifier/);
    expect(isCodeSigning(leaf)).toBe(false);
  });

  test('intermediate (isCa): CA:TRUE critical, issued by the CA', async () => {
    const { publicKey } = await generateRsaKeyPair();
    const mid = await issueCertificate({ commonName: 'Sub CA', publicKey, codeSigning: false, isCa: true, issuer: { cert: ca, privateKey: caKey.privateKey } });
    expect(ext(text(mid), 'Basic Constraints')).toBe('critical CA:TRUE');
    expect(mid.checkIssued(ca)).toBe(true);
    expect(mid.verify(ca.publicKey)).toBe(true);
  });

  test('self-signed code-signing certificate (no issuer) with explicit dates and serial', async () => {
    const kp = await generateRsaKeyPair();
    const notBefore = new Date('2020-01-01T00:00:00Z');
    const notAfter = new Date('2021-01-01T00:00:00Z');
    const c = await issueCertificate({
      commonName: 'solo',
      publicKey: kp.publicKey,
      privateKey: kp.privateKey,
      codeSigning: true,
      notBefore,
      notAfter,
      serial: '0badc0de',
    });
    expect(c.checkIssued(c)).toBe(true);
    expect(c.verify(kp.publicKey)).toBe(true);
    expect(validityOf(c)).toEqual({ notBefore, notAfter });
    expect(c.serialNumber.toLowerCase()).toBe('0badc0de');
  });

  test('self-signed without a private key is refused', async () => {
    const { publicKey } = await generateRsaKeyPair();
    await expect(issueCertificate({ commonName: 'x', publicKey, codeSigning: false })).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  test('an empty common name → USAGE', async () => {
    await expect(createCaCertificate({ commonName: ' ', key: caKey })).rejects.toMatchObject({ code: 'USAGE' });
  });

  test('commonName survives commas, equals signs and UTF-8', async () => {
    const kp = await generateRsaKeyPair();
    const cn = 'Dépôt, "sign"=1 + a\\b\nend';
    const c = await issueCertificate({ commonName: cn, publicKey: kp.publicKey, privateKey: kp.privateKey, codeSigning: false });
    expect(commonName(c)).toBe(cn);
  });
});

describe('issuing under a CA made by openssl', () => {
  test('AKI copies the issuer SKI even when it is not SHA-1 of the key; the leaf chains', async () => {
    const key = join(scratch, 'oss-ca.pem');
    const crt = join(scratch, 'oss-ca.crt');
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      crt,
      '-days',
      '30',
      '-subj',
      '/CN=OpenSSL CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'subjectKeyIdentifier=0102030405',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const [caCert] = parseCertificates(readFileSync(crt));
    const caKey = await loadPrivateKey(key, undefined);
    const { publicKey } = await generateRsaKeyPair();
    const leaf = await issueCertificate({ commonName: 'under openssl', publicKey, codeSigning: true, issuer: { cert: caCert!, privateKey: caKey } });
    expect(ext(text(leaf), 'Authority Key Identifier')).toContain('01:02:03:04:05');
    expect(TrustStore.fromCertificates([caCert!]).verifyChain(leaf).chain.map(commonName)).toEqual(['under openssl', 'OpenSSL CA']);
  });
});

describe('parseCertificates / fingerprints of the conformance certificates', () => {
  test('a bundle keeps its order', () => {
    const bundle = Buffer.concat([fixture('keys', 'deployer.crt'), fixture('trusted', 'ca.crt')]);
    const certs = parseCertificates(bundle);
    expect(certs.map(commonName)).toEqual(['conformance-deployer', 'Conformance Test CA']);
  });

  test('W-E1: fingerprints equal openssl SHA-256 of the DER, lowercase without colons', () => {
    for (const f of ['codesigner.crt', 'deployer.crt']) {
      const [c] = parseCertificates(fixture('keys', f));
      const ossl = openssl(['x509', '-noout', '-fingerprint', '-sha256'], fixture('keys', f)).split('=')[1]!.trim();
      expect(fingerprintSha256(c!)).toBe(ossl.replace(/:/g, '').toLowerCase());
    }
  });

  test('a DER certificate (one) is accepted', () => {
    const [pemCert] = parseCertificates(fixture('keys', 'codesigner.crt'));
    const [derCert] = parseCertificates(pemCert!.raw);
    expect(fingerprintSha256(derCert!)).toBe(fingerprintSha256(pemCert!));
  });

  test('code-signing facts of the WAPT-made certificates', () => {
    const [cs] = parseCertificates(fixture('keys', 'codesigner.crt'));
    const [dep] = parseCertificates(fixture('keys', 'deployer.crt'));
    const [ca] = parseCertificates(fixture('trusted', 'ca.crt'));
    expect([isCodeSigning(cs!), isCodeSigning(dep!), isCodeSigning(ca!)]).toEqual([true, false, false]);
    expect([isCa(cs!), isCa(dep!), isCa(ca!)]).toEqual([false, false, true]);
  });

  test.each([
    ['garbage text', 'not a certificate'],
    ['an empty string', ''],
    ['a private key', fixture('keys', 'ca.pem').toString()],
    ['a PEM block with a corrupted body', '-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n'],
    ['random binary', Buffer.from([0x30, 0x03, 0x01, 0x02, 0x03])],
  ])('%s → CERT_INVALID', (_n, input) => {
    expect(() => parseCertificates(input)).toThrow(expect.objectContaining({ code: 'CERT_INVALID' }));
  });

  test('certificateToPem round-trips and ends with one newline', () => {
    const [c] = parseCertificates(fixture('keys', 'codesigner.crt'));
    const pem = certificateToPem(c!);
    expect(pem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    expect(fingerprintSha256(parseCertificates(pem)[0]!)).toBe(fingerprintSha256(c!));
  });
});

function writeTmp(cert: X509Certificate): string {
  const p = join(scratch, `${fingerprintSha256(cert)}.crt`);
  writeFileSync(p, certificateToPem(cert));
  return p;
}
