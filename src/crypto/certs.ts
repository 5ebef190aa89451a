// X.509 certificates. node:crypto's X509Certificate is the in-memory type
// everywhere (fast, synchronous); @peculiar/x509 only builds new certificates and
// is loaded only then (loadX509), never to read one on a hot path.
import { X509Certificate, createHash, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { WaptError } from '../errors.js';
import type * as X509 from '@peculiar/x509';
import { certificateCommonNames } from './der-names.js';
import { loadX509 } from './x509-lib.js';

const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
export const OID_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const DAY_MS = 86_400_000;

// --- creation -----------------------------------------------------------------

export interface CreateCaOptions {
  commonName: string;
  key: { privateKey: KeyObject; publicKey: KeyObject };
  days?: number;
  organization?: string;
}

/** W-D6: self-signed CA with basicConstraints CA:TRUE (critical), keyCertSign + cRLSign, SKI. */
export async function createCaCertificate(opts: CreateCaOptions): Promise<X509Certificate> {
  return build({
    subject: nameOf(opts.commonName, opts.organization),
    publicKey: opts.key.publicKey,
    signer: opts.key.privateKey,
    extensions: await caExtensions(opts.key.publicKey),
    ...validity(opts.days),
  });
}

export interface IssueOptions {
  commonName: string;
  publicKey: KeyObject;
  codeSigning: boolean;
  /** The signing CA; absent → self-signed, which then needs `privateKey`. */
  issuer?: { cert: X509Certificate; privateKey: KeyObject };
  /** The subject's own private key: required for a self-signed certificate, unused otherwise. */
  privateKey?: KeyObject;
  organization?: string;
  days?: number;
  notBefore?: Date;
  notAfter?: Date;
  serial?: string;
  /** An intermediate CA (CA:TRUE); codeSigning is then ignored. */
  isCa?: boolean;
}

/**
 * W-D6 leaf: basicConstraints CA:FALSE (critical), keyUsage digitalSignature,
 * nonRepudiation, dataEncipherment, keyCertSign, cRLSign, SKI + AKI; a code-signing
 * certificate adds EKU codeSigning (critical), a "deployer" has no EKU (as WAPT's).
 */
export async function issueCertificate(opts: IssueOptions): Promise<X509Certificate> {
  const signer = opts.issuer?.privateKey ?? opts.privateKey;
  if (!signer) throw new WaptError('INTERNAL', 'issueCertificate: a self-signed certificate needs the subject privateKey');
  const x509 = loadX509();
  const subject = nameOf(opts.commonName, opts.organization);
  const parsedIssuer = opts.issuer ? new x509.X509Certificate(opts.issuer.cert.raw) : undefined;
  const issuerName = parsedIssuer ? parsedIssuer.subjectName : subject;
  const exts: X509.Extension[] = opts.isCa
    ? await caExtensions(opts.publicKey)
    : [
        new x509.BasicConstraintsExtension(false, undefined, true),
        ...(opts.codeSigning ? [new x509.ExtendedKeyUsageExtension([OID_CODE_SIGNING], true)] : []),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature |
            x509.KeyUsageFlags.nonRepudiation |
            x509.KeyUsageFlags.dataEncipherment |
            x509.KeyUsageFlags.keyCertSign |
            x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(await toCryptoPublic(opts.publicKey)),
      ];
  // AKI must equal the issuer's SKI byte for byte (chain builders match on it): copy it when
  // the issuer has one, since other CAs may not derive it as SHA-1 of the key as we do.
  const issuerSki = parsedIssuer?.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  exts.push(
    issuerSki
      ? new x509.AuthorityKeyIdentifierExtension(issuerSki)
      : await x509.AuthorityKeyIdentifierExtension.create(await toCryptoPublic(opts.issuer?.cert.publicKey ?? opts.publicKey)),
  );
  const { notBefore, notAfter } = validity(opts.days, opts.notBefore, opts.notAfter);
  return build({ subject, issuer: issuerName, publicKey: opts.publicKey, signer, extensions: exts, notBefore, notAfter, serial: opts.serial });
}

async function caExtensions(publicKey: KeyObject): Promise<X509.Extension[]> {
  const x509 = loadX509();
  return [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(await toCryptoPublic(publicKey)),
  ];
}

interface BuildParams {
  subject: X509.Name;
  issuer?: X509.Name;
  publicKey: KeyObject;
  signer: KeyObject;
  extensions: X509.Extension[];
  notBefore: Date;
  notAfter: Date;
  serial?: string;
}

async function build(p: BuildParams): Promise<X509Certificate> {
  const cert = await loadX509().X509CertificateGenerator.create({
    serialNumber: p.serial ?? randomSerial(),
    subject: p.subject,
    issuer: p.issuer ?? p.subject,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    signingAlgorithm: RSA_SHA256,
    publicKey: await toCryptoPublic(p.publicKey),
    signingKey: await toCryptoPrivate(p.signer),
    extensions: p.extensions,
  });
  return new X509Certificate(Buffer.from(cert.rawData));
}

/** UTF8String values given as objects: plain strings would be RFC 4514-unescaped by the library. */
function nameOf(commonName: string, organization?: string): X509.Name {
  if (!commonName.trim()) throw new WaptError('USAGE', 'a certificate needs a non-empty common name');
  const cn = { CN: [{ utf8String: commonName }] };
  return new (loadX509().Name)(organization ? [{ O: [{ utf8String: organization }] }, cn] : [cn]);
}

function validity(days = 3650, notBefore?: Date, notAfter?: Date): { notBefore: Date; notAfter: Date } {
  if (!Number.isInteger(days) || days < 1) throw new WaptError('USAGE', `validity must be a positive number of days, not ${days}`);
  // Backdate a little so a freshly made certificate verifies on a host whose clock lags.
  const from = notBefore ?? new Date(Date.now() - 5 * 60_000);
  return { notBefore: from, notAfter: notAfter ?? new Date(from.getTime() + days * DAY_MS) };
}

/** 16 random bytes with the top bit clear, so the DER INTEGER stays positive. */
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

async function toCryptoPrivate(key: KeyObject): Promise<webcrypto.CryptoKey> {
  const der = key.export({ type: 'pkcs8', format: 'der' });
  return (await webcrypto.subtle.importKey('pkcs8', der, RSA_SHA256, false, ['sign'])) as webcrypto.CryptoKey;
}

async function toCryptoPublic(key: KeyObject): Promise<webcrypto.CryptoKey> {
  const der = key.export({ type: 'spki', format: 'der' });
  return (await webcrypto.subtle.importKey('spki', der, RSA_SHA256, true, ['verify'])) as webcrypto.CryptoKey;
}

// --- parsing and facts --------------------------------------------------------

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle in order (or one DER certificate). CERT_INVALID on garbage. */
export function parseCertificates(pem: string | Buffer): X509Certificate[] {
  const text = Buffer.isBuffer(pem) ? pem.toString('latin1') : pem;
  const blocks = text.match(PEM_CERT);
  try {
    if (blocks) return blocks.map((b) => new X509Certificate(b));
    if (Buffer.isBuffer(pem) && pem[0] === 0x30) return [new X509Certificate(pem)];
  } catch (err) {
    throw new WaptError('CERT_INVALID', `not a valid X.509 certificate: ${(err as Error).message}`, { cause: err });
  }
  throw new WaptError('CERT_INVALID', 'no PEM certificate found (expected -----BEGIN CERTIFICATE-----)');
}

export function certificateToPem(cert: X509Certificate): string {
  return cert.toString().replace(/\r\n/g, '\n').replace(/\n?$/, '\n');
}

const fingerprints = new WeakMap<X509Certificate, string>();

/** W-E1: SHA-256 of the DER, lowercase hex without colons (cached per object). */
export function fingerprintSha256(cert: X509Certificate): string {
  let fp = fingerprints.get(cert);
  if (!fp) {
    fp = createHash('sha256').update(cert.raw).digest('hex');
    fingerprints.set(cert, fp);
  }
  return fp;
}

const names = new WeakMap<X509Certificate, { subject: string; issuer: string }>();

// Node's subject string escapes special characters (\, \+ …); read the DER instead
// (der-names.ts; the library only for string types it does not decode).
function cnsOf(cert: X509Certificate): { subject: string; issuer: string } {
  let n = names.get(cert);
  if (!n) {
    n = certificateCommonNames(cert.raw);
    if (!n) {
      const p = new (loadX509().X509Certificate)(cert.raw);
      n = { subject: p.subjectName.getField('CN').at(-1) ?? '', issuer: p.issuerName.getField('CN').at(-1) ?? '' };
    }
    names.set(cert, n);
  }
  return n;
}

/** The subject CN ('' when absent), cached per object. */
export function commonName(cert: X509Certificate): string {
  return cnsOf(cert).subject;
}

/** The issuer CN ('' when absent). */
export function issuerCommonName(cert: X509Certificate): string {
  return cnsOf(cert).issuer;
}

/** W-D5: Extended Key Usage includes Code Signing (1.3.6.1.5.5.7.3.3). */
export function isCodeSigning(cert: X509Certificate): boolean {
  return (cert.keyUsage ?? []).includes(OID_CODE_SIGNING);
}

export function isCa(cert: X509Certificate): boolean {
  return cert.ca;
}

const dates = new WeakMap<X509Certificate, { notBefore: Date; notAfter: Date }>();

/** Validity dates as Date objects (Node 20 only offers strings), cached per object. */
export function validityOf(cert: X509Certificate): { notBefore: Date; notAfter: Date } {
  let d = dates.get(cert);
  if (!d) {
    d = { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
    if (Number.isNaN(d.notBefore.getTime()) || Number.isNaN(d.notAfter.getTime())) {
      const p = new (loadX509().X509Certificate)(cert.raw);
      d = { notBefore: p.notBefore, notAfter: p.notAfter };
    }
    dates.set(cert, d);
  }
  return d;
}
