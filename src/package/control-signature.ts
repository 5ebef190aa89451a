// Control attribute signatures (W-E1..W-E3, X4). Pure except for the crypto
// primitives: values in, signed values or a verdict out.
import { createHash, randomUUID, type KeyObject, type X509Certificate } from 'node:crypto';
import { WaptError } from '../errors.js';
import { commonName, decodeBase64Loose, fingerprintSha256, signSha256, verifySha256, type TrustStore } from '../crypto/index.js';
import { CANONICAL_ORDER, LEGACY_SIGNED_ATTRIBUTES, SIGNATURE_FIELDS } from './control-fields.js';
import { field, parseControl, serializeControl, type ControlFields } from './control.js';
import { signedAttributesJson } from './pyjson.js';

/** W-E1: every required, optional and signature attribute except `signature`. */
export const SIGNED_ATTRIBUTES: readonly string[] = CANONICAL_ORDER.filter((k) => k !== 'signature' && !['filename', 'size', 'md5sum', 'sha256'].includes(k));

/** W-E3: the attribute names a verifier must cover, including the legacy fallback. */
export function signedAttributeNames(fields: ControlFields): string[] {
  const listed = field(fields, 'signed_attributes')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (listed.length > 0) return listed;
  if (field(fields, 'signature_date') < '20170609') return [...LEGACY_SIGNED_ATTRIBUTES];
  return [];
}

/** `YYYY-MM-DDTHH:MM:SS.ffffff`, local time as WAPT writes it; UTC for reproducible builds. */
export function formatSignatureDate(d: Date, utc: boolean): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const [y, mo, da, h, mi, s, ms] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()];
  return `${p(y, 4)}-${p(mo)}-${p(da)}T${p(h)}:${p(mi)}:${p(s)}.${p(ms * 1000, 6)}`;
}

/** A UUID4-shaped id derived from a seed, so reproducible builds get a stable package_uuid. */
export function deterministicUuid(seed: string): string {
  const b = createHash('sha256').update(seed).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface SignControlOptions {
  key: KeyObject;
  cert: X509Certificate;
  /** Signing time; with `reproducible` it comes from SOURCE_DATE_EPOCH. */
  date: Date;
  /** Fixed time and a derived package_uuid: same inputs and key give the same bytes. */
  reproducible: boolean;
}

/**
 * W-E1/W-E2: returns a new control with signer attributes and the signature set.
 * The values signed are those read back after serialisation ("sign what you will
 * read back"), so a value that would not round-trip cannot be signed wrongly.
 */
export function signControl(input: ControlFields, opts: SignControlOptions): ControlFields {
  const fields = new Map(input);
  for (const k of ['filename', 'size', 'md5sum', 'sha256']) fields.delete(k); // index-only (W-C2)
  const fingerprint = fingerprintSha256(opts.cert);
  fields.set('signer', commonName(opts.cert));
  fields.set('signer_fingerprint', fingerprint);
  fields.set('signature_date', formatSignatureDate(opts.date, opts.reproducible));
  fields.set('signed_attributes', SIGNED_ATTRIBUTES.join(','));
  fields.set('signature', '');
  const seed = opts.reproducible ? serializeControl(fields) + fingerprint : '';
  fields.set('package_uuid', opts.reproducible ? deterministicUuid(seed) : randomUUID());
  const readBack = parseControl(serializeControl(fields));
  const blob = signedAttributesJson(readBack, [...SIGNED_ATTRIBUTES]);
  readBack.set('signature', signSha256(opts.key, blob).toString('base64'));
  return readBack;
}

export interface VerifiedControl {
  signer: X509Certificate;
  fingerprint: string;
  chain: X509Certificate[];
}

export interface VerifyControlOptions {
  /** Candidate certificates: the index's ssl/ members, or the package's certificate.crt (signer first). */
  certificates: X509Certificate[];
  trust: TrustStore;
  at?: Date;
}

/**
 * W-E3 + X4 without the chain: which of `certificates` signed these control values.
 * Only for callers that check the returned signer's chain themselves (scan workers,
 * which cannot hold a TrustStore); everyone else calls verifyControlSignature.
 */
export function findControlSigner(fields: ControlFields, certificates: X509Certificate[]): { signer: X509Certificate; fingerprint: string } {
  const pkg = field(fields, 'package') || '(unnamed)';
  const sigText = field(fields, 'signature');
  if (!sigText) {
    throw new WaptError('CONTROL_SIGNATURE_INVALID', `${pkg}: control is not signed (no signature attribute)`, {
      detail: { package: pkg },
    });
  }
  const attrs = signedAttributeNames(fields);
  if (attrs.length === 0) {
    throw new WaptError('CONTROL_SIGNATURE_INVALID', `${pkg}: control has a signature but no signed_attributes`, {
      detail: { package: pkg },
    });
  }
  const signature = decodeBase64Loose(sigText);
  const blob = signedAttributesJson(fields, attrs);
  const wanted = field(fields, 'signer_fingerprint').toLowerCase();
  const candidates = wanted ? certificates.filter((c) => fingerprintSha256(c) === wanted) : certificates;
  if (wanted && candidates.length === 0) {
    throw new WaptError(
      'SIGNER_UNTRUSTED',
      `${pkg}: no certificate with signer_fingerprint ${wanted.slice(0, 16)}… was supplied (signer ${field(fields, 'signer') || '?'})`,
      { detail: { package: pkg, signer_fingerprint: wanted } },
    );
  }
  const signer = candidates.find((c) => verifySha256(c, blob, signature));
  if (!signer) {
    throw new WaptError('CONTROL_SIGNATURE_INVALID', `${pkg}: control attributes do not match their signature`, {
      detail: { package: pkg, signer: field(fields, 'signer') },
    });
  }
  const fingerprint = fingerprintSha256(signer);
  // X4: the named fingerprint must be the certificate that verified (legacy controls name none).
  if (wanted && wanted !== fingerprint) {
    throw new WaptError('SIGNER_MISMATCH', `${pkg}: signer_fingerprint does not match the signing certificate`, {
      detail: { package: pkg },
    });
  }
  return { signer, fingerprint };
}

/** W-E3 + X4: the control's signature, its signer and the signer's chain to the trust store. */
export function verifyControlSignature(fields: ControlFields, opts: VerifyControlOptions): VerifiedControl {
  const { signer, fingerprint } = findControlSigner(fields, opts.certificates);
  const intermediates = opts.certificates.filter((c) => c !== signer);
  const { chain } = opts.trust.verifyChain(signer, intermediates, { at: opts.at });
  return { signer, fingerprint, chain };
}

export { SIGNATURE_FIELDS };
