// An admin's action-signing identity for fleet tests: a small CA the agent trusts
// (action_signers_dir = <dir>/signers) and a key + chain `wapt-get action sign` uses.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateToPem, createCaCertificate, generateRsaKeyPair, issueCertificate, privateKeyToEncryptedPem } from '../../src/crypto/index.js';

export interface ActionSigner {
  signersDir: string;
  keyPath: string;
  certPath: string;
}

export async function makeActionSigner(dir: string): Promise<ActionSigner> {
  const caKey = await generateRsaKeyPair(2048);
  const ca = await createCaCertificate({ commonName: 'Fleet actions CA', key: caKey, days: 30 });
  const k = await generateRsaKeyPair(2048);
  const cert = await issueCertificate({
    commonName: 'ops-admin',
    publicKey: k.publicKey,
    issuer: { cert: ca, privateKey: caKey.privateKey },
    codeSigning: false,
    days: 30,
  });
  const signersDir = join(dir, 'signers');
  await mkdir(signersDir, { recursive: true });
  await writeFile(join(signersDir, 'ca.crt'), certificateToPem(ca));
  const keyPath = join(dir, 'admin.key');
  const certPath = join(dir, 'admin.crt');
  await writeFile(keyPath, privateKeyToEncryptedPem(k.privateKey, ''), { mode: 0o600 });
  await writeFile(certPath, certificateToPem(cert) + certificateToPem(ca));
  return { signersDir, keyPath, certPath };
}
