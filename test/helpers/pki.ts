// A throw-away PKI for package tests, made with src/crypto's own issuing code:
// a trusted CA, code-signing / deployer / expired / second code-signing leaves
// under it, and a foreign CA with its own code-signer. RSA keygen is slow, so
// one PKI is made per test file (module state is per file under jest) and reused.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateToPem, createCaCertificate, generateRsaKeyPair, issueCertificate, privateKeyToEncryptedPem } from '../../src/crypto/index.js';
import type { Signer } from '../../src/package/index.js';

export interface Identity {
  cert: X509Certificate;
  privateKey: KeyObject;
  /** Unencrypted PKCS#8 key file. */
  keyPath: string;
  certPath: string;
}

export interface TestPki {
  /** Root of everything written; removed by cleanupPki(). */
  dir: string;
  /** Holds ca.crt only: the client's ssl/ directory. */
  trustedDir: string;
  /** Exists and is empty: nothing is trusted. */
  emptyTrustedDir: string;
  ca: Identity;
  /** CN test-codesigner, EKU codeSigning, issued by ca. */
  codesigner: Identity;
  /** CN test-codesigner-2: same CA, another key. */
  codesigner2: Identity;
  /** CN test-deployer: no EKU (may sign only code-free packages, W-D5). */
  deployer: Identity;
  /** CN test-expired: code-signing, valid 2020-01-01 → 2020-02-01. */
  expired: Identity;
  /** A CA nobody trusts, and a code-signer it issued. */
  otherCa: Identity;
  otherSigner: Identity;
}

let cached: Promise<TestPki> | undefined;

/** The file's PKI, made on first call. */
export function getTestPki(): Promise<TestPki> {
  cached ??= makeTestPki();
  return cached;
}

export function cleanupPki(pki: TestPki): void {
  rmSync(pki.dir, { recursive: true, force: true });
}

/** A Signer (key + certificate.crt content) for buildPackage / resignPackage. */
export function signerOf(id: Identity, intermediates: X509Certificate[] = []): Signer {
  return { key: id.privateKey, certificates: [id.cert, ...intermediates] };
}

async function makeTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'wapt-pki-'));
  const keysDir = join(dir, 'keys');
  const trustedDir = join(dir, 'trusted');
  const emptyTrustedDir = join(dir, 'trusted-empty');
  for (const d of [keysDir, trustedDir, emptyTrustedDir]) mkdirSync(d);

  const save = (stem: string, cert: X509Certificate, privateKey: KeyObject): Identity => {
    const keyPath = join(keysDir, `${stem}.pem`);
    const certPath = join(keysDir, `${stem}.crt`);
    writeFileSync(keyPath, privateKeyToEncryptedPem(privateKey, ''), { mode: 0o600 });
    writeFileSync(certPath, certificateToPem(cert));
    return { cert, privateKey, keyPath, certPath };
  };
  const newCa = async (stem: string, commonName: string): Promise<Identity> => {
    const key = await generateRsaKeyPair();
    return save(stem, await createCaCertificate({ commonName, key }), key.privateKey);
  };
  const newLeaf = async (
    stem: string,
    issuer: Identity,
    commonName: string,
    extra: { codeSigning: boolean; notBefore?: Date; notAfter?: Date },
  ): Promise<Identity> => {
    const key = await generateRsaKeyPair();
    const cert = await issueCertificate({ commonName, publicKey: key.publicKey, issuer, ...extra });
    return save(stem, cert, key.privateKey);
  };

  const ca = await newCa('ca', 'Test Foundation CA');
  writeFileSync(join(trustedDir, 'ca.crt'), certificateToPem(ca.cert));
  const [codesigner, codesigner2, deployer, expired] = await Promise.all([
    newLeaf('codesigner', ca, 'test-codesigner', { codeSigning: true }),
    newLeaf('codesigner2', ca, 'test-codesigner-2', { codeSigning: true }),
    newLeaf('deployer', ca, 'test-deployer', { codeSigning: false }),
    newLeaf('expired', ca, 'test-expired', {
      codeSigning: true,
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2020-02-01T00:00:00Z'),
    }),
  ]);
  const otherCa = await newCa('other-ca', 'Untrusted Other CA');
  const otherSigner = await newLeaf('other-signer', otherCa, 'attacker-codesigner', { codeSigning: true });
  return { dir, trustedDir, emptyTrustedDir, ca, codesigner, codesigner2, deployer, expired, otherCa, otherSigner };
}
