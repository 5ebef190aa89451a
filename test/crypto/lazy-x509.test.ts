// @peculiar/x509 costs ~0.1 s to load: reading and verifying certificates (every
// command's hot path) must not load it; only building certificates and parsing CRLs may.
// The order of the tests matters: the first ones run before anything loads the library.
import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { commonName, issuerCommonName, parseCertificates, TrustStore, validityOf, createCaCertificate, generateRsaKeyPair } from '../../src/crypto/index.js';
import { certificateCommonNames } from '../../src/crypto/der-names.js';
import { isX509Loaded, loadX509 } from '../../src/crypto/x509-lib.js';
import { TRUSTED, fixture, openssl, tempDir } from './helpers.js';

/** The library's answer, as certs.ts gave it before the DER reader existed. */
function libraryCns(der: Buffer): { subject: string; issuer: string } {
  const p = new (loadX509().X509Certificate)(der);
  return { subject: p.subjectName.getField('CN').at(-1) ?? '', issuer: p.issuerName.getField('CN').at(-1) ?? '' };
}

function opensslCert(subj: string, extra: string[] = []): Buffer {
  const t = tempDir();
  try {
    const key = join(t.dir, 'k.pem');
    const crt = join(t.dir, 'c.pem');
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '2', '-utf8', '-subj', subj, ...extra]);
    return parseCertificates(readFileSync(crt))[0]!.raw;
  } finally {
    t.cleanup();
  }
}

describe('@peculiar/x509 stays unloaded on the read/verify path', () => {
  it('TrustStore.load of a trusted dir without CRLs, verifyChain, commonName and validityOf do not load it', async () => {
    const store = await TrustStore.load(TRUSTED);
    const [signer] = parseCertificates(fixture('keys', 'codesigner.crt'));
    const { chain } = store.verifyChain(signer!, [], { at: new Date('2030-01-01T00:00:00Z') });
    expect(chain).toHaveLength(2);
    expect(commonName(signer!)).toBe('conformance-codesigner');
    expect(issuerCommonName(signer!)).toBe('Conformance Test CA');
    expect(validityOf(signer!).notAfter.getTime()).toBeGreaterThan(validityOf(signer!).notBefore.getTime());
    expect(store.crlCount).toBe(0);
    expect(isX509Loaded()).toBe(false);
  });

  it('a trusted dir holding a garbage .crl file loads it (CRLs are parsed by the library) and warns', async () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'ca.crt'), fixture('trusted', 'ca.crt'));
      writeFileSync(join(t.dir, 'bad.crl'), 'not a crl');
      const warnings: string[] = [];
      await TrustStore.load(t.dir, { onWarning: (m) => warnings.push(m) });
      expect(warnings.join('\n')).toMatch(/bad\.crl/);
      expect(isX509Loaded()).toBe(true);
    } finally {
      t.cleanup();
    }
  });

  it('creating a certificate works through the lazy loader', async () => {
    const ca = await createCaCertificate({ commonName: 'lazy CA', key: await generateRsaKeyPair() });
    expect(commonName(ca)).toBe('lazy CA');
  });
});

describe("the DER common-name reader gives the library's answer", () => {
  it.each([
    ['the WAPT-made codesigner', () => fixture('keys', 'codesigner.crt')],
    ['the WAPT-made CA', () => fixture('trusted', 'ca.crt')],
  ])('%s', (_n, pem) => {
    const der = parseCertificates(pem())[0]!.raw;
    expect(certificateCommonNames(der)).toEqual(libraryCns(der));
  });

  it.each([
    ['special characters (comma, plus, quotes, backslash)', '/O=x/CN=a, b\\+c "q" \\\\ z', 'a, b+c "q" \\ z'],
    ['non-ASCII UTF-8', '/CN=Société Générale ✓', 'Société Générale ✓'],
    ['two CNs: the last wins', '/CN=first/CN=second', 'second'],
    ['no CN at all', '/O=only an organisation', ''],
  ])('openssl-made certificate with %s', (_n, subj, cn) => {
    const der = opensslCert(subj);
    const mine = certificateCommonNames(der);
    expect(mine).toEqual({ subject: cn, issuer: cn }); // self-signed
    expect(mine).toEqual(libraryCns(der));
  });

  it('a BMPString CN is left to the library, and commonName still reads it', async () => {
    const x509 = loadX509();
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const made = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: [{ CN: [{ bmpString: 'bmp name' }] }],
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signingAlgorithm: alg,
      keys,
    } as never);
    const der = Buffer.from(made.rawData);
    expect(certificateCommonNames(der)).toBeUndefined();
    expect(commonName(parseCertificates(der)[0]!)).toBe('bmp name');
  });

  it.each([
    ['empty input', Buffer.alloc(0)],
    ['a truncated certificate', () => fixture('keys', 'codesigner.crt')],
    ['random bytes', Buffer.from('30820100deadbeef', 'hex')],
  ])('%s → undefined (the library decides), never a throw', (_n, input) => {
    const bytes = typeof input === 'function' ? parseCertificates(input())[0]!.raw.subarray(0, 200) : input;
    expect(certificateCommonNames(bytes)).toBeUndefined();
  });
});
