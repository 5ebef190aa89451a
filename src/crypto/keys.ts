// RSA key pairs: generation, PEM (de)serialization and loading from disk with
// precise errors, because a key problem is the first thing a publisher hits.
import { createPrivateKey, generateKeyPair, type KeyObject, type X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { WaptError } from '../errors.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export type RsaKeySize = 2048 | 3072 | 4096;
export const RSA_KEY_SIZES: readonly RsaKeySize[] = [2048, 3072, 4096];

export interface RsaKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** W-D6: WAPT issues RSA 2048 keys; larger sizes are allowed. */
export async function generateRsaKeyPair(bits: RsaKeySize = 2048): Promise<RsaKeyPair> {
  if (!RSA_KEY_SIZES.includes(bits)) throw new WaptError('USAGE', `RSA key size must be 2048, 3072 or 4096, not ${bits}`);
  return generateKeyPairAsync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
}

/**
 * PKCS#8 PEM, encrypted with AES-256-CBC (`-----BEGIN ENCRYPTED PRIVATE KEY-----`).
 * `password === ''` writes an unencrypted PKCS#8 key: allowed only for tests and
 * throw-away demo keys (create-keycert --no-password).
 */
export function privateKeyToEncryptedPem(key: KeyObject, password: string): string {
  if (password === '') return key.export({ type: 'pkcs8', format: 'pem' }) as string;
  return key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: password }) as string;
}

export interface LoadKeyOptions {
  onWarning?: (msg: string) => void;
}

/** True when a PEM text holds an encrypted key (PKCS#8 or traditional OpenSSL "Proc-Type"). */
export function isEncryptedPem(pem: string): boolean {
  return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type:\s*4,ENCRYPTED/.test(pem);
}

/**
 * Reads an RSA private key: PKCS#8 (encrypted or not) or traditional `RSA PRIVATE KEY`
 * PEM (as the conformance keys are). Errors: KEY_UNREADABLE, KEY_PASSWORD_WRONG, KEY_INVALID.
 */
export async function loadPrivateKey(path: string, password: string | undefined, opts: LoadKeyOptions = {}): Promise<KeyObject> {
  let data: Buffer;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EISDIR' });
    warnIfGroupOrWorldReadable(path, st.mode, opts.onWarning);
    data = await readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new WaptError('KEY_UNREADABLE', `cannot read private key ${path}: ${e.code ?? e.message}`, {
      cause: err,
      detail: { path, errno: e.code },
    });
  }
  return parsePrivateKey(data, password, path);
}

/** Parses key bytes (see loadPrivateKey); `source` names the origin in messages. */
export function parsePrivateKey(data: Buffer | string, password: string | undefined, source = 'key'): KeyObject {
  const text = Buffer.isBuffer(data) ? data.toString('latin1') : data;
  const encrypted = isEncryptedPem(text);
  if (encrypted && (password === undefined || password === '')) {
    throw new WaptError('KEY_PASSWORD_WRONG', `private key ${source} is encrypted and no password was given`, { detail: { path: source } });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem', passphrase: encrypted ? password : undefined });
  } catch (err) {
    // A wrong password usually fails the CBC padding check ("bad decrypt") but may
    // also decrypt to garbage that fails DER decoding: both mean the password is wrong.
    if (encrypted) throw new WaptError('KEY_PASSWORD_WRONG', `wrong password for private key ${source}`, { cause: err, detail: { path: source } });
    throw new WaptError('KEY_INVALID', `${source} does not hold a PEM private key`, { cause: err, detail: { path: source } });
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new WaptError('KEY_INVALID', `${source} holds a ${key.asymmetricKeyType} key; WAPT signing needs RSA`, { detail: { path: source } });
  }
  return key;
}

/** Secrets should be 0600: warn (never fail) when group or others may read them. */
export function warnIfGroupOrWorldReadable(path: string, mode: number, onWarning?: (msg: string) => void): void {
  if (process.platform === 'win32' || !onWarning) return;
  if ((mode & 0o077) !== 0) {
    onWarning(`${path} is readable by others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 ${path}`);
  }
}

/** Whether a key file is encrypted (so a password must be asked); false when unreadable (loadPrivateKey reports that). */
export async function isKeyFileEncrypted(path: string): Promise<boolean> {
  try {
    return isEncryptedPem((await readFile(path)).toString('latin1'));
  } catch {
    return false;
  }
}

/** True when `key` is the private half of the certificate's public key. */
export function keyMatchesCertificate(key: KeyObject, cert: X509Certificate): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}
