// RSA PKCS#1 v1.5 / SHA-256 signatures (W-D2, W-E2) and their base64 forms.
import { sign, verify, type KeyObject, X509Certificate } from 'node:crypto';
import { WaptError } from '../errors.js';

export function signSha256(key: KeyObject, data: Buffer | string): Buffer {
  return sign('sha256', typeof data === 'string' ? Buffer.from(data, 'utf8') : data, key);
}

// X509Certificate.publicKey builds a new KeyObject on each access: keep one per cert.
const publicKeys = new WeakMap<X509Certificate, KeyObject>();

export function publicKeyOf(cert: X509Certificate): KeyObject {
  let k = publicKeys.get(cert);
  if (!k) {
    k = cert.publicKey;
    publicKeys.set(cert, k);
  }
  return k;
}

/** False (never throws) for a bad signature, a wrong key or a malformed signature blob. */
export function verifySha256(cert: X509Certificate | KeyObject, data: Buffer | string, signature: Buffer): boolean {
  const key = cert instanceof X509Certificate ? publicKeyOf(cert) : cert;
  try {
    return verify('sha256', typeof data === 'string' ? Buffer.from(data, 'utf8') : data, key, signature);
  } catch {
    return false;
  }
}

/** W-D2: MIME base64, a line break every 76 characters and after the last line (Python's encodebytes). */
export function mimeBase64(buf: Buffer): string {
  const b64 = buf.toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += 76) out += b64.slice(i, i + 76) + '\n';
  return out;
}

/** W-D2: base64 with or without line breaks/whitespace; missing '=' padding is tolerated. */
export function decodeBase64Loose(s: string): Buffer {
  const compact = s.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
    throw new WaptError('SIGNATURE_INVALID', 'the signature is not valid base64');
  }
  return Buffer.from(compact, 'base64');
}
