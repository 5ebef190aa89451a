// Writing a key and its certificate: temp file then rename, key mode 0600, and
// never silently replacing an existing key (losing a signing key is unrecoverable).
import type { KeyObject, X509Certificate } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile } from '../atomic-file.js';
import { WaptError } from '../errors.js';
import { certificateToPem } from './certs.js';
import { privateKeyToEncryptedPem } from './keys.js';

export interface WrittenKeyCert {
  keyPath: string;
  certPath: string;
}

/** A file name stem from a common name: anything outside [A-Za-z0-9._-] becomes '_'. */
export function safeFileStem(commonName: string): string {
  const stem = commonName
    .trim()
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^\.+/, '_');
  if (!stem) throw new WaptError('USAGE', `cannot make a file name from common name "${commonName}"`);
  return stem;
}

/** Writes DIR/<stem>.pem (0600, encrypted unless password is '') and DIR/<stem>.crt. */
export async function writeKeyAndCertificate(
  dir: string,
  stem: string,
  key: KeyObject,
  password: string,
  cert: X509Certificate,
  opts: { force?: boolean } = {},
): Promise<WrittenKeyCert> {
  const keyPath = join(dir, `${stem}.pem`);
  const certPath = join(dir, `${stem}.crt`);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new WaptError('IO_ERROR', `cannot create directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? err}`, { cause: err, detail: { path: dir } });
  }
  if (!opts.force) {
    for (const p of [keyPath, certPath]) {
      if (await exists(p)) throw new WaptError('USAGE', `${p} already exists; choose another --out-dir or --cn, or pass --force`, { detail: { path: p } });
    }
  }
  await writeAtomic(keyPath, privateKeyToEncryptedPem(key, password), 0o600);
  await writeAtomic(certPath, certificateToPem(cert), 0o644);
  return { keyPath, certPath };
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  try {
    await atomicWriteFile(path, text, { mode });
  } catch (err) {
    throw new WaptError('IO_ERROR', `cannot write ${path}: ${(err as Error).message}`, { cause: err, detail: { path } });
  }
}
