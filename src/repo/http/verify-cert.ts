// W-G4: `verify_cert` is 0 (no check), 1 (system CA bundle) or a path. WAPT
// treats the path as a CA bundle; a file holding exactly one non-CA certificate
// is a server certificate, which we pin (a self-signed `wapt-get serve` cert
// can only be trusted that way).
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { WaptError } from '../../errors.js';

export type VerifyCertMode =
  | { kind: 'off' }
  | { kind: 'system' }
  | { kind: 'ca-bundle'; path: string }
  | { kind: 'pinned'; path: string /* PEM of the server cert; compare SHA-256 of DER of the leaf */ };

const OFF = new Set(['0', 'false', 'off', 'no']);
const ON = new Set(['1', 'true', 'on', 'yes']);
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** All certificates of a PEM file, parsed (CERT_INVALID when none or unparsable). */
export function readPemCertificates(path: string): X509Certificate[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new WaptError('CONFIG_INVALID', `verify_cert: cannot read ${path}`, { cause, detail: { key: 'verify_cert', path } });
  }
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    throw new WaptError('CERT_INVALID', `verify_cert: ${path} holds no PEM certificate`, { detail: { path } });
  }
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (cause) {
    throw new WaptError('CERT_INVALID', `verify_cert: ${path} holds an unparsable certificate`, { cause, detail: { path } });
  }
}

/**
 * Unset or empty → system CA store: a secure default (WAPT 1.x defaulted to 0,
 * we deliberately do not). Relative paths resolve against `baseDir` (the ini's dir).
 */
export function parseVerifyCert(value: string | undefined, baseDir: string): VerifyCertMode {
  const v = (value ?? '').trim();
  if (v === '') return { kind: 'system' };
  const lower = v.toLowerCase();
  if (OFF.has(lower)) return { kind: 'off' };
  if (ON.has(lower)) return { kind: 'system' };
  const path = isAbsolute(v) ? v : resolve(baseDir, v);
  const certs = readPemCertificates(path);
  if (certs.length === 1 && !certs[0].ca) return { kind: 'pinned', path };
  return { kind: 'ca-bundle', path };
}

/** SHA-256 of a certificate's DER, lowercase hex without separators. */
export function derSha256(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/** The pin of a `pinned` mode file. */
export function loadPin(path: string): string {
  const certs = readPemCertificates(path);
  return derSha256(certs[0].raw);
}
