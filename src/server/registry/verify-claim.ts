// Server-side check of a host's signed claim (source notes §10), stricter than WAPT:
// the signer must be the one certificate the caller expects (the registered one),
// nothing unsigned may ride along, and the age window is checked both ways. The
// replay check (sequence) needs the store and lives in routes.ts. Pure.
import type { X509Certificate } from 'node:crypto';
import { CLAIM_SIGNATURE_ATTRIBUTES, claimSignedBlob, parseSignatureDate, type SignedClaim } from '../../protocol/index.js';
import { decodeBase64Loose, fingerprintSha256, parseCertificates, verifySha256 } from '../../crypto/index.js';
import { ApiError, isPlainObject, malformed } from './http.js';

/** WAPT's default signature_clockskew (source notes §10): 6 hours. */
export const DEFAULT_MAX_CLAIM_AGE_SECS = 6 * 3600;
const MAX_ATTRIBUTES = 256;

export interface VerifyClaimOptions {
  /** The only certificate allowed to have signed (registered, or presented at registration). */
  certificate: X509Certificate;
  /** Attributes that must be signed besides the four signature attributes. */
  required: readonly string[];
  maxAgeSecs: number;
  now: Date;
}

const forbidden = (code: 'BAD_SIGNATURE' | 'SIGNER_MISMATCH' | 'CERT_INVALID' | 'STALE_SIGNATURE', message: string) => new ApiError(403, code, message);

function stringField(claim: Record<string, unknown>, name: string): string {
  const v = claim[name];
  if (typeof v !== 'string' || v === '') throw malformed(`claim attribute ${name} must be a non-empty string`);
  return v;
}

/** Returns the claim, typed, or throws ApiError (400 malformed, 403 refused). */
export function verifyClaim(input: unknown, opts: VerifyClaimOptions): SignedClaim {
  if (!isPlainObject(input)) throw malformed('claim must be a JSON object');
  const claim = input;
  const listed = claim.signed_attributes;
  // §10: a JSON list of names (not WAPT's CSV string of package controls)
  if (!Array.isArray(listed) || listed.length > MAX_ATTRIBUTES || !listed.every((a): a is string => typeof a === 'string' && a !== '')) {
    throw malformed('claim.signed_attributes must be a list of attribute names');
  }
  const attrs = new Set(listed);
  if (attrs.size !== listed.length) throw malformed('claim.signed_attributes lists an attribute twice');
  if (attrs.has('signature')) throw malformed('claim.signed_attributes may not list signature');
  for (const a of [...CLAIM_SIGNATURE_ATTRIBUTES, ...opts.required]) {
    if (!attrs.has(a)) throw malformed(`claim.signed_attributes must list ${a}`);
  }
  // Stricter than WAPT (which ignores them): an unsigned attribute could be altered freely.
  for (const k of Object.keys(claim)) {
    if (k !== 'signature' && !attrs.has(k)) throw malformed(`claim attribute ${k} is not signed`);
  }
  for (const a of listed) {
    if (!Object.hasOwn(claim, a)) throw malformed(`claim lacks the signed attribute ${a}`);
  }
  const signer = stringField(claim, 'signer').toLowerCase();
  const dateText = stringField(claim, 'signature_date');
  const chainPem = stringField(claim, 'signer_certificate');
  const signatureText = stringField(claim, 'signature');

  const expected = fingerprintSha256(opts.certificate);
  if (signer !== expected) throw forbidden('SIGNER_MISMATCH', 'the claim was not signed by the certificate registered for this host');
  let first: X509Certificate;
  try {
    first = parseCertificates(chainPem)[0]!;
  } catch {
    throw malformed('claim.signer_certificate is not a PEM certificate');
  }
  if (fingerprintSha256(first) !== expected) throw forbidden('SIGNER_MISMATCH', 'claim.signer_certificate is not the registered certificate');
  const now = opts.now.getTime();
  if (Date.parse(opts.certificate.validFrom) > now || Date.parse(opts.certificate.validTo) < now) {
    throw forbidden('CERT_INVALID', `the host certificate is not valid now (${opts.certificate.validFrom} – ${opts.certificate.validTo})`);
  }

  let blob: string;
  try {
    blob = claimSignedBlob(claim, listed);
  } catch {
    // pyJsonStringify refuses what Python would write differently (floats, huge numbers)
    throw malformed('the claim holds values that cannot be signed canonically (use strings and integers)');
  }
  let signature: Buffer;
  try {
    signature = decodeBase64Loose(signatureText);
  } catch {
    throw malformed('claim.signature is not base64');
  }
  if (!verifySha256(opts.certificate, blob, signature)) throw forbidden('BAD_SIGNATURE', 'the claim signature does not verify');

  // §10 max_age_secs: |now − signature_date| ≤ the allowed clock skew
  const signedAt = parseSignatureDate(dateText);
  if (Number.isNaN(signedAt)) throw malformed('claim.signature_date is not an ISO date-time');
  if (Math.abs(now - signedAt) > opts.maxAgeSecs * 1000) {
    throw forbidden('STALE_SIGNATURE', `claim.signature_date ${dateText} is more than ${opts.maxAgeSecs} s away from the server clock`);
  }
  return claim as SignedClaim;
}
