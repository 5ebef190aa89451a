// Shared test fixtures: the conformance data made by real WAPT, and temp dirs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CONF = resolve('fixtures/conformance/wapt-made');
export const KEYS = join(CONF, 'keys');
export const TRUSTED = join(CONF, 'trusted');
export const REPO = join(CONF, 'repo');

export function fixture(...parts: string[]): Buffer {
  return readFileSync(join(CONF, ...parts));
}

/** One member of a zip, read with the real `unzip` tool. */
export function unzipMember(zipPath: string, member: string): Buffer {
  return execFileSync('unzip', ['-p', zipPath, member], { maxBuffer: 64 << 20 });
}

export function openssl(args: string[], input?: string | Buffer): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'wapt-crypto-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// --- a small PKI built with our own issuing code -------------------------------
import { webcrypto, type KeyObject, type X509Certificate } from 'node:crypto';
import { x509 } from '../../src/crypto/x509-lib.js';
import { createCaCertificate, generateRsaKeyPair, issueCertificate } from '../../src/crypto/index.js';

export interface Issued {
  cert: X509Certificate;
  privateKey: KeyObject;
}

export async function makeCa(commonName: string, organization?: string): Promise<Issued> {
  const key = await generateRsaKeyPair();
  return { cert: await createCaCertificate({ commonName, key, organization }), privateKey: key.privateKey };
}

export async function makeLeaf(
  issuer: Issued,
  commonName: string,
  extra: { codeSigning?: boolean; isCa?: boolean; notBefore?: Date; notAfter?: Date; organization?: string } = {},
): Promise<Issued> {
  const key = await generateRsaKeyPair();
  const cert = await issueCertificate({ commonName, publicKey: key.publicKey, codeSigning: extra.codeSigning ?? true, issuer, ...extra });
  return { cert, privateKey: key.privateKey };
}

/** A CRL made with @peculiar/x509's X509CrlGenerator (loaded through src/crypto/x509-lib, which installs the Reflect shim first). */
export async function makeCrl(
  issuer: Issued,
  revoked: X509Certificate[],
  opts: { format?: 'pem' | 'der'; nextUpdate?: Date; thisUpdate?: Date; signWith?: KeyObject } = {},
): Promise<Buffer> {
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const der = (opts.signWith ?? issuer.privateKey).export({ type: 'pkcs8', format: 'der' });
  const signingKey = await webcrypto.subtle.importKey('pkcs8', der, alg, false, ['sign']);
  const crl = await x509.X509CrlGenerator.create({
    issuer: new x509.X509Certificate(issuer.cert.raw).subjectName,
    thisUpdate: opts.thisUpdate ?? new Date(Date.now() - 3600_000),
    nextUpdate: opts.nextUpdate ?? new Date(Date.now() + 7 * 86_400_000),
    signingAlgorithm: alg,
    signingKey: signingKey as never,
    entries: revoked.map((c) => ({ serialNumber: c.serialNumber.toLowerCase(), revocationDate: new Date(Date.now() - 60_000) })),
  });
  return opts.format === 'der' ? Buffer.from(crl.rawData) : Buffer.from(crl.toString('pem') + '\n');
}
