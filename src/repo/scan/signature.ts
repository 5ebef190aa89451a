// The control-signature half of W-E3 without the chain half, for worker threads:
// a worker has no TrustStore (it holds parsed CRLs and caches that cannot cross a
// thread), so it checks signature, signed_attributes and signer_fingerprint (X4),
// and the main thread then checks the signer's chain (and W-D5) exactly as it does
// for an unchanged, already verified cache entry.
import type { X509Certificate } from 'node:crypto';
import { findControlSigner, type ControlFields } from '../../package/index.js';

/** The fingerprint of the certificate whose signature over the control verifies; throws as verifyControlSignature does. */
export function verifySignatureOnly(fields: ControlFields, certificates: X509Certificate[]): string {
  return findControlSigner(fields, certificates).fingerprint;
}
