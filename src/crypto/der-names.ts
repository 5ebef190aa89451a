// The subject and issuer common names of a DER certificate, read without
// @peculiar/x509 (node's X509Certificate.subject escapes special characters, so
// the DER is read instead). Only the string types real certificates use are
// decoded here; anything else returns undefined and the caller asks the library.

export interface Tlv {
  tag: number;
  /** First content byte. */
  start: number;
  /** One past the last content byte. */
  end: number;
}

export function tlv(der: Uint8Array, off: number, limit: number): Tlv {
  if (off + 2 > limit) throw new Error('truncated DER');
  const tag = der[off]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('multi-byte DER tags are not used in certificates');
  const first = der[off + 1]!;
  let len = first;
  let start = off + 2;
  if (first >= 0x80) {
    const n = first & 0x7f;
    if (n < 1 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > limit) throw new Error('truncated DER');
  return { tag, start, end: start + len };
}

export function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let off = parent.start; off < parent.end;) {
    const c = tlv(der, off, parent.end);
    out.push(c);
    off = c.end;
  }
  return out;
}

const OID_CN = [0x55, 0x04, 0x03]; // 2.5.4.3
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The last CN of a Name (as @peculiar's getField('CN').at(-1)); '' when none, undefined when not decodable here. */
function lastCn(der: Uint8Array, name: Tlv): string | undefined {
  let cn = '';
  for (const rdn of children(der, name)) {
    for (const atv of children(der, rdn)) {
      const [type, value] = children(der, atv);
      if (!type || !value || type.tag !== 0x06) throw new Error('malformed AttributeTypeAndValue');
      if (type.end - type.start !== 3 || OID_CN.some((b, i) => der[type.start + i] !== b)) continue;
      const bytes = der.subarray(value.start, value.end);
      if (value.tag === 0x0c)
        cn = utf8.decode(bytes); // UTF8String (throws on bad UTF-8 → library)
      else if (value.tag === 0x13 || value.tag === 0x16)
        cn = Buffer.from(bytes).toString('latin1'); // Printable, IA5
      else return undefined; // BMP, Teletex, Universal…: rare; left to the library
    }
  }
  return cn;
}

/**
 * Subject and issuer CNs of a DER certificate, or undefined when this reader does not
 * handle it (the caller then uses @peculiar/x509, which gives the same answer).
 */
export function certificateCommonNames(der: Uint8Array): { subject: string; issuer: string } | undefined {
  try {
    const cert = tlv(der, 0, der.length);
    const tbs = tlv(der, cert.start, cert.end);
    let fields = children(der, tbs);
    if (fields[0]?.tag === 0xa0) fields = fields.slice(1); // [0] version
    // serialNumber, signature, issuer, validity, subject
    const [, , issuer, , subject] = fields;
    if (!issuer || !subject || issuer.tag !== 0x30 || subject.tag !== 0x30) return undefined;
    const s = lastCn(der, subject);
    const i = lastCn(der, issuer);
    return s === undefined || i === undefined ? undefined : { subject: s, issuer: i };
  } catch {
    return undefined;
  }
}
