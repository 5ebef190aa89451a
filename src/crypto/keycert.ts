// The work behind create-ca / create-keycert: make a key, issue its certificate,
// write both. The CLI verbs only gather options and print the result.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { WaptError } from '../errors.js';
import { commonName, createCaCertificate, fingerprintSha256, isCa, isCodeSigning, issueCertificate, parseCertificates, validityOf } from './certs.js';
import { writeKeyAndCertificate, safeFileStem } from './files.js';
import { generateRsaKeyPair, keyMatchesCertificate, loadPrivateKey, RSA_KEY_SIZES, type RsaKeySize } from './keys.js';

export interface KeyCertRequest {
  commonName: string;
  outDir: string;
  keySize: RsaKeySize;
  days: number;
  /** 'ca' makes a self-signed CA (create-ca); 'leaf' a signing certificate. */
  kind: 'ca' | 'leaf';
  codeSigning: boolean;
  organization?: string;
  /** '' writes the key unencrypted (--no-password). */
  password: string;
  /** Signing CA for a leaf; absent → self-signed. */
  issuer?: { cert: X509Certificate; privateKey: KeyObject };
  force?: boolean;
}

export interface KeyCertSummary {
  subject: string;
  commonName: string;
  fingerprint: string;
  codeSigning: boolean;
  isCa: boolean;
  issuer: string;
  selfSigned: boolean;
  notBefore: string;
  notAfter: string;
  keyPath: string;
  certPath: string;
  keyEncrypted: boolean;
}

export async function createKeyCert(req: KeyCertRequest): Promise<KeyCertSummary> {
  const stem = safeFileStem(req.commonName);
  const key = await generateRsaKeyPair(req.keySize);
  const cert =
    req.kind === 'ca'
      ? await createCaCertificate({ commonName: req.commonName, key, days: req.days, organization: req.organization })
      : await issueCertificate({
          commonName: req.commonName,
          publicKey: key.publicKey,
          privateKey: key.privateKey,
          codeSigning: req.codeSigning,
          issuer: req.issuer,
          days: req.days,
          organization: req.organization,
        });
  const { keyPath, certPath } = await writeKeyAndCertificate(req.outDir, stem, key.privateKey, req.password, cert, { force: req.force });
  const { notBefore, notAfter } = validityOf(cert);
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    commonName: commonName(cert),
    fingerprint: fingerprintSha256(cert),
    codeSigning: isCodeSigning(cert),
    isCa: isCa(cert),
    issuer: cert.issuer.replace(/\n/g, ', '),
    selfSigned: !req.issuer,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    keyPath,
    certPath,
    keyEncrypted: req.password !== '',
  };
}

/** The CA that will sign: its certificate (first of the file), its key, which must match and be a CA. */
export async function loadIssuer(
  certPath: string,
  keyPath: string,
  password: string | undefined,
  onWarning?: (m: string) => void,
): Promise<{ cert: X509Certificate; privateKey: KeyObject }> {
  let text: Buffer;
  try {
    text = await readFile(certPath);
  } catch (err) {
    throw new WaptError('IO_ERROR', `cannot read CA certificate ${certPath}: ${(err as NodeJS.ErrnoException).code ?? err}`, {
      cause: err,
      detail: { path: certPath },
    });
  }
  const [cert] = parseCertificates(text);
  if (!isCa(cert!))
    throw new WaptError('USAGE', `${certPath} ("${commonName(cert!)}") is not a CA certificate (basicConstraints CA:TRUE); it cannot issue certificates`);
  const privateKey = await loadPrivateKey(keyPath, password, { onWarning });
  if (!keyMatchesCertificate(privateKey, cert!)) {
    throw new WaptError('KEY_CERT_MISMATCH', `${keyPath} is not the private key of ${certPath} ("${commonName(cert!)}")`, {
      detail: { key: keyPath, cert: certPath },
    });
  }
  return { cert: cert!, privateKey };
}

/** --key-size: 2048 (W-D6 default), 3072 or 4096. */
export function parseKeySize(value: unknown): RsaKeySize {
  const n = Number(value ?? 2048);
  if (!RSA_KEY_SIZES.includes(n as RsaKeySize)) throw new WaptError('USAGE', `--key-size must be 2048, 3072 or 4096, not ${String(value)}`);
  return n as RsaKeySize;
}

/** --days: a positive whole number. */
export function parseDays(value: unknown, fallback = 3650): number {
  if (value === undefined) return fallback;
  const s = String(value);
  if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 36_500)
    throw new WaptError('USAGE', `--days must be a whole number of days between 1 and 36500, not ${s}`);
  return Number(s);
}

/** Human lines for a created key and certificate. */
/** The summary as --json prints it: snake_case keys, like every other JSON answer (README "JSON output"). */
export function keyCertJson(s: KeyCertSummary): Record<string, string | boolean> {
  return {
    subject: s.subject,
    common_name: s.commonName,
    fingerprint: s.fingerprint,
    code_signing: s.codeSigning,
    is_ca: s.isCa,
    issuer: s.issuer,
    self_signed: s.selfSigned,
    not_before: s.notBefore,
    not_after: s.notAfter,
    key_path: s.keyPath,
    cert_path: s.certPath,
    key_encrypted: s.keyEncrypted,
  };
}

export function describeKeyCert(s: KeyCertSummary): string[] {
  return [
    `subject:      ${s.subject}`,
    `issuer:       ${s.selfSigned ? 'self-signed' : s.issuer}`,
    `fingerprint:  ${s.fingerprint}`,
    `code signing: ${s.codeSigning ? 'yes' : 'no'}`,
    `CA:           ${s.isCa ? 'yes' : 'no'}`,
    `valid:        ${s.notBefore} → ${s.notAfter}`,
    `private key:  ${s.keyPath} (${s.keyEncrypted ? 'encrypted' : 'NOT ENCRYPTED'}, mode 0600)`,
    `certificate:  ${s.certPath}`,
  ];
}
