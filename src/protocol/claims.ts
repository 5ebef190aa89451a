// Signed claims (source notes §10): a JSON object whose listed attributes are signed
// with RSA PKCS#1 v1.5 / SHA-256 over Python's sorted compact JSON, the way WAPT signs
// inventory data and server actions. Pure: keys and certificates come in as objects.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { certificateToPem, fingerprintSha256, signSha256 } from '../crypto/index.js';
import { pyJsonStringify } from '../package/index.js';

/** §10: always appended to the signed attribute list (a JSON list, not a CSV string). */
export const CLAIM_SIGNATURE_ATTRIBUTES = ['signed_attributes', 'signer', 'signature_date', 'signer_certificate'] as const;

/** Our addition: both report kinds carry these, so the server can refuse replays and cross-use. */
export const REPORT_ATTRIBUTES = ['host_uuid', 'sequence', 'report_type'] as const;
/** `poll`: the agent's signed long-poll for actions (carries no state). */
export type ReportType = 'inventory' | 'status' | 'poll' | 'unregister';

/** What a relay forwards upstream, unchanged: each names its agent endpoint. */
export type RelayedKind = 'register' | 'status' | 'unregister';

export interface SignedClaim {
  [attribute: string]: unknown;
  signed_attributes: string[];
  /** SHA-256 fingerprint (hex) of the signer certificate. */
  signer: string;
  /** UTC, Python `datetime.utcnow().isoformat()` style (no zone suffix). */
  signature_date: string;
  /** PEM chain, signer first. */
  signer_certificate: string;
  /** base64, no line breaks. */
  signature: string;
}

export interface ClaimSigner {
  key: KeyObject;
  /** The signer first, then any issuers. */
  chain: readonly X509Certificate[];
}

/** `datetime.utcnow().isoformat()`: microseconds, no `Z` (WAPT reads it as UTC). */
export function pythonUtcIso(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

/** A signature_date as WAPT writes it (no zone: UTC) or with an explicit `Z`/offset; NaN when unparsable. */
export function parseSignatureDate(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$/.exec(text);
  if (!m) return NaN;
  const frac = m[2] ? m[2].slice(0, 4).padEnd(4, '0') : '';
  return Date.parse(`${m[1]}${frac}${m[3] ?? 'Z'}`);
}

/** The exact bytes signed: the attributes listed in `signed_attributes` (absent ones as null, as WAPT rebuilds them). */
export function claimSignedBlob(claim: Record<string, unknown>, attributes: readonly string[]): string {
  // fromEntries defines own properties, so even an attribute named __proto__ is kept as data
  return pyJsonStringify(Object.fromEntries(attributes.map((a) => [a, Object.hasOwn(claim, a) ? claim[a] : null])));
}

/**
 * Signs every attribute of `data` (signature fields in it are replaced). Values must be
 * what Python's json writes identically: strings, integers, booleans, null, lists, objects.
 */
export function signClaim(data: Record<string, unknown>, signer: ClaimSigner, now: Date = new Date()): SignedClaim {
  const own = new Set<string>([...CLAIM_SIGNATURE_ATTRIBUTES, 'signature']);
  const attributes = Object.keys(data).filter((k) => !own.has(k));
  const claim: Record<string, unknown> = {};
  for (const a of attributes) claim[a] = data[a];
  claim.signer = fingerprintSha256(signer.chain[0]!);
  claim.signature_date = pythonUtcIso(now);
  claim.signer_certificate = signer.chain.map(certificateToPem).join('\n');
  claim.signed_attributes = [...attributes, ...CLAIM_SIGNATURE_ATTRIBUTES];
  const blob = claimSignedBlob(claim, claim.signed_attributes as string[]);
  claim.signature = signSha256(signer.key, blob).toString('base64');
  return claim as SignedClaim;
}

/** A host report: the data plus the attributes the server checks (REPORT_ATTRIBUTES). */
export function signReport(type: ReportType, hostUuid: string, sequence: number, data: Record<string, unknown>, signer: ClaimSigner, now?: Date): SignedClaim {
  return signClaim({ ...data, host_uuid: hostUuid, sequence, report_type: type }, signer, now);
}
