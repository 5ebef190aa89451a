// X3: certificate revocation lists. @peculiar/x509 parses them (loaded only when a
// CRL is actually parsed or matched, see x509-lib.ts); the signature is
// checked synchronously with node:crypto over the exact tbsCertList bytes, so
// TrustStore.verifyChain can stay synchronous.
import { verify, type KeyObject } from 'node:crypto';
import { WaptError } from '../errors.js';
import { loadX509 } from './x509-lib.js';

export interface ParsedCrl {
  /** Where it came from (file path or "crl #n"), for messages. */
  source: string;
  /** Issuer distinguished name in @peculiar's canonical string form (see nameKey). */
  issuerKey: string;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** Normalized serial numbers (see normalizeSerial) → revocation date. */
  revoked: Map<string, Date>;
  tbs: Buffer;
  signature: Buffer;
  /** node:crypto digest name, undefined when the algorithm is not RSA PKCS#1 v1.5 / ECDSA. */
  hash?: string;
}

// OpenSSL labels CRLs "X509 CRL"; @peculiar/x509 and some tools write plain "CRL".
const PEM_CRL = /-----BEGIN (?:X509 )?CRL-----[\s\S]*?-----END (?:X509 )?CRL-----/g;

/** True when a text holds at least one PEM CRL block. */
export function hasPemCrl(text: string): boolean {
  return /-----BEGIN (?:X509 )?CRL-----/.test(text);
}

/** Every CRL in the bytes: PEM blocks, or one DER CRL. CERT_INVALID on garbage. */
export function parseCrls(data: Buffer, source: string): ParsedCrl[] {
  const text = data.toString('latin1');
  const blocks = text.match(PEM_CRL);
  const ders = blocks ? blocks.map((b) => Buffer.from(b.replace(/-----[^-]+-----|\s+/g, ''), 'base64')) : [data];
  return ders.map((der, i) => parseOne(der, blocks && blocks.length > 1 ? `${source}#${i + 1}` : source));
}

function parseOne(der: Buffer, source: string): ParsedCrl {
  try {
    const crl = new (loadX509().X509Crl)(der);
    const revoked = new Map<string, Date>();
    for (const e of crl.entries) revoked.set(normalizeSerial(e.serialNumber), e.revocationDate);
    return {
      source,
      issuerKey: crl.issuerName.toString(),
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
      revoked,
      tbs: firstChild(der),
      signature: Buffer.from(crl.signature),
      hash: hashName(crl.signatureAlgorithm),
    };
  } catch (err) {
    throw new WaptError('CERT_INVALID', `${source} is not a valid CRL: ${(err as Error).message}`, { cause: err, detail: { path: source } });
  }
}

/** True when the CRL was signed by the holder of `issuerKey`. */
export function crlSignedBy(crl: ParsedCrl, issuerKey: KeyObject): boolean {
  if (!crl.hash) return false;
  try {
    return verify(crl.hash, crl.tbs, issuerKey, crl.signature);
  } catch {
    return false;
  }
}

/** Serial numbers compare as integers: lowercase hex without leading zeros. */
export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/** Canonical form of a DER Name, comparable with ParsedCrl.issuerKey. */
export function nameKey(derCert: Buffer): string {
  return new (loadX509().X509Certificate)(derCert).subjectName.toString();
}

function hashName(algorithm: unknown): string | undefined {
  const alg = algorithm as { name?: string; hash?: { name?: string } | string };
  if (alg.name !== 'RSASSA-PKCS1-v1_5' && alg.name !== 'ECDSA') return undefined;
  const h = (typeof alg.hash === 'string' ? alg.hash : alg.hash?.name)?.toUpperCase();
  return h && /^SHA-(1|256|384|512)$/.test(h) ? h.replace('-', '').toLowerCase() : undefined;
}

/** The first element of a DER SEQUENCE, header included: CertificateList → tbsCertList. */
function firstChild(der: Buffer): Buffer {
  const outer = header(der, 0);
  const inner = header(der, outer.contentStart);
  return der.subarray(outer.contentStart, inner.contentStart + inner.length);
}

function header(der: Buffer, off: number): { contentStart: number; length: number } {
  if (der[off] !== 0x30) throw new Error('expected a DER SEQUENCE');
  const first = der[off + 1];
  if (first === undefined) throw new Error('truncated DER');
  if (first < 0x80) return { contentStart: off + 2, length: first };
  const n = first & 0x7f;
  if (n < 1 || n > 4) throw new Error('unsupported DER length');
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + (der[off + 2 + i] ?? 0);
  if (off + 2 + n + length > der.length) throw new Error('truncated DER');
  return { contentStart: off + 2 + n, length };
}
