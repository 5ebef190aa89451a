// Self-signed TLS for `wapt-get serve`: made once with node's WebCrypto and
// @peculiar/x509 (no openssl at runtime), then reused so that clients which
// pinned it (verify_cert=<path to the cert>, W-G4) keep trusting it.
import { X509Certificate as NodeX509, createHash, createPrivateKey, webcrypto } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadX509 } from '../crypto/index.js'; // @peculiar/x509 behind its Reflect shim, loaded on first use

export interface SelfSignedTls {
  certPath: string;
  keyPath: string;
  /** SHA-256 of the certificate's DER, lowercase hex: the value a pinning client compares. */
  fingerprintSha256: string;
}

const CERT = 'server.crt';
const KEY = 'server.key';
const VALID_DAYS = 3650;

function fingerprint(pem: string): string {
  return createHash('sha256').update(new NodeX509(pem).raw).digest('hex');
}

/** A usable existing pair: both parse, the key matches the cert, and it is still valid. */
async function reuse(certPath: string, keyPath: string): Promise<string | null> {
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    const cert = new NodeX509(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return null;
    if (Date.parse(cert.validTo) <= Date.now()) return null;
    return certPem;
  } catch {
    return null;
  }
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

export async function ensureSelfSignedTls(dir: string): Promise<SelfSignedTls> {
  const certPath = join(dir, CERT);
  const keyPath = join(dir, KEY);
  const existing = await reuse(certPath, keyPath);
  if (existing) return { certPath, keyPath, fingerprintSha256: fingerprint(existing) };

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const x509 = loadX509(); // only when a new pair must be made: reusing one never loads it
  const crypto = webcrypto;
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const host = hostname() || 'localhost';
  const notBefore = new Date(Date.now() - 5 * 60_000); // tolerate small clock skew
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      name: [{ CN: [host] }],
      notBefore,
      notAfter: new Date(notBefore.getTime() + VALID_DAYS * 86_400_000),
      signingAlgorithm: alg,
      keys,
      extensions: [
        // CA:FALSE so parseVerifyCert() classifies this file as a pinned server certificate
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
          ...(host !== 'localhost' ? [{ type: 'dns' as const, value: host }] : []),
        ]),
      ],
    },
    crypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  const certPem = cert.toString('pem').replace(/\r\n/g, '\n').replace(/\n?$/, '\n');
  // key first: a cert without its key is never left behind as "reusable"
  await writeAtomic(keyPath, keyPem, 0o600);
  await writeAtomic(certPath, certPem, 0o644);
  return { certPath, keyPath, fingerprintSha256: fingerprint(certPem) };
}
