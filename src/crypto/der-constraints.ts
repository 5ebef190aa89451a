// basicConstraints pathLenConstraint (RFC 5280 4.2.1.9) read from the DER: node's
// X509Certificate gives `ca` but not the path length, and @peculiar/x509 must stay
// unloaded on the verify path (lazy-x509.test.ts).
import type { X509Certificate } from 'node:crypto';
import { WaptError } from '../errors.js';
import { commonName } from './certs.js';
import { children, tlv } from './der-names.js';

const OID_BASIC_CONSTRAINTS = [0x55, 0x1d, 0x13]; // 2.5.29.19
const cache = new WeakMap<X509Certificate, number | null>();

/** The certificate's pathLenConstraint, or null when it sets none (or has no basicConstraints). */
export function pathLenConstraint(cert: X509Certificate): number | null {
  let v = cache.get(cert);
  if (v === undefined) {
    try {
      v = readPathLen(cert.raw);
    } catch (err) {
      throw new WaptError('CERT_INVALID', `certificate "${commonName(cert)}": cannot read basicConstraints (${(err as Error).message})`, { cause: err });
    }
    cache.set(cert, v);
  }
  return v;
}

function readPathLen(der: Uint8Array): number | null {
  const cert = tlv(der, 0, der.length);
  const tbs = tlv(der, cert.start, cert.end);
  const ext = children(der, tbs).find((f) => f.tag === 0xa3); // [3] extensions
  if (!ext) return null;
  const [list] = children(der, ext);
  for (const e of list ? children(der, list) : []) {
    const [oid, ...rest] = children(der, e);
    if (!oid || oid.tag !== 0x06 || oid.end - oid.start !== 3 || OID_BASIC_CONSTRAINTS.some((b, i) => der[oid.start + i] !== b)) continue;
    const value = rest[rest.length - 1]; // extnValue OCTET STRING (after the optional critical BOOLEAN)
    if (!value || value.tag !== 0x04) throw new Error('malformed basicConstraints');
    const seq = tlv(der, value.start, value.end);
    const pathLen = children(der, seq).find((c) => c.tag === 0x02); // INTEGER pathLenConstraint
    if (!pathLen) return null;
    let n = 0;
    for (let i = pathLen.start; i < pathLen.end; i++) n = n * 256 + der[i]!;
    return n;
  }
  return null;
}
