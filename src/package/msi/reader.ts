// Reads the summary facts of a Windows Installer database (.msi): the Property table's
// ProductName, ProductVersion, ProductCode, Manufacturer (and UpgradeCode). An MSI is a
// compound file (read with `cfb`); inside it, stream names are compressed into the
// CJK range ("MSI base64", two name characters per UTF-16 unit), strings live once
// in `!_StringPool` (lengths) + `!_StringData` (bytes), and tables are stored column by
// column as string ids. Layout as documented by Wine (dlls/msi/table.c, string.c).
import type CFBTypes from 'cfb';
import { lazyRequire } from '../../lazy-require.js';
import { WaptError } from '../../errors.js';

// loaded on first use (src/lazy-require.ts)
const CFBMod = lazyRequire<typeof CFBTypes>('cfb');

const MIME = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._';

/** Decodes one stored stream name: 0x3800–0x47FF two characters, 0x4800–0x483F one, 0x4840 the table mark '!'. */
export function decodeStreamName(stored: string): string {
  let out = '';
  for (const ch of stored) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x3800 && c < 0x4800) out += MIME[(c - 0x3800) & 0x3f]! + MIME[((c - 0x3800) >> 6) & 0x3f]!;
    else if (c >= 0x4800 && c < 0x4840) out += MIME[c - 0x4800]!;
    else if (c === 0x4840) out += '!';
    else out += ch;
  }
  return out;
}

/** The inverse, for tests and for naming a stream to look up. */
export function encodeStreamName(name: string, table: boolean): string {
  let out = table ? String.fromCharCode(0x4840) : '';
  for (let i = 0; i < name.length; i++) {
    const a = MIME.indexOf(name[i]!);
    const b = i + 1 < name.length ? MIME.indexOf(name[i + 1]!) : -1;
    if (a >= 0 && b >= 0) {
      out += String.fromCharCode(0x3800 + (b << 6) + a);
      i++;
    } else if (a >= 0) out += String.fromCharCode(0x4800 + a);
    else out += name[i];
  }
  return out;
}

export interface MsiStringPool {
  codepage: number;
  /** Bytes per string id in tables: 2, or 3 when the pool is flagged for long ids. */
  idSize: 2 | 3;
  /** Index = string id; [0] is the null string. */
  strings: string[];
}

function decoderFor(codepage: number): InstanceType<typeof TextDecoder> {
  if (codepage === 65001) return new TextDecoder('utf-8');
  if (codepage === 0) return new TextDecoder('windows-1252'); // "neutral": WiX and wixl default to 1252 text
  try {
    return new TextDecoder(`windows-${codepage}`);
  } catch {
    throw new WaptError('MSI_INVALID', `the MSI uses codepage ${codepage}, which this Node cannot decode`, { detail: { codepage } });
  }
}

const bad = (msg: string): WaptError => new WaptError('MSI_INVALID', `not a readable MSI: ${msg}`);

/** `!_StringPool`: u32 header (codepage, bit 31 = long ids), then (u16 length, u16 refcount) per id. */
export function parseStringPool(pool: Uint8Array, data: Uint8Array): MsiStringPool {
  if (pool.length < 4 || pool.length % 4 !== 0) throw bad('string pool size is not a multiple of 4');
  const dv = new DataView(pool.buffer, pool.byteOffset, pool.byteLength);
  const header = dv.getUint32(0, true);
  const codepage = header & 0x7fffffff;
  const dec = decoderFor(codepage);
  const words = pool.length / 2;
  const strings: string[] = [''];
  let offset = 0;
  for (let i = 2; i < words;) {
    const len16 = dv.getUint16(i * 2, true);
    const refs = dv.getUint16(i * 2 + 2, true);
    let len: number;
    if (len16 === 0 && refs === 0) {
      strings.push(''); // an unused id still takes its place
      i += 2;
      continue;
    }
    if (len16 === 0) {
      // Over 64 KiB (Wine string.c): a zero length is followed by an entry holding the low
      // word of the length and, in its refcount field, the high word.
      if (i + 3 >= words) throw bad('truncated long string entry');
      len = dv.getUint16(i * 2 + 6, true) * 0x10000 + dv.getUint16(i * 2 + 4, true);
      i += 4;
    } else {
      len = len16;
      i += 2;
    }
    if (offset + len > data.length) throw bad('string data shorter than the pool says');
    strings.push(dec.decode(data.subarray(offset, offset + len)));
    offset += len;
  }
  return { codepage, idSize: header & 0x80000000 ? 3 : 2, strings };
}

/** Rows of a table whose columns are all strings (Property: Property, Value), stored column-major. */
export function readStringTable(table: Uint8Array, pool: MsiStringPool, columns: number): string[][] {
  const rowSize = pool.idSize * columns;
  if (table.length % rowSize !== 0) throw bad(`table size ${table.length} is not a multiple of its row size ${rowSize}`);
  const rows = table.length / rowSize;
  const id = (at: number): number => table[at]! | (table[at + 1]! << 8) | (pool.idSize === 3 ? table[at + 2]! << 16 : 0);
  const out: string[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: string[] = [];
    for (let c = 0; c < columns; c++) {
      const n = id(c * rows * pool.idSize + r * pool.idSize);
      const s = pool.strings[n];
      if (s === undefined) throw bad(`string id ${n} is outside the string pool`);
      row.push(s);
    }
    out.push(row);
  }
  return out;
}

export interface MsiProduct {
  productName: string;
  productVersion: string;
  /** Upper-case braced GUID. */
  productCode: string;
  manufacturer: string;
  upgradeCode: string | null;
  /** Every row of the Property table. */
  properties: Record<string, string>;
}

const GUID = /^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$/i;

/** Parses an .msi file's bytes; MSI_INVALID when it is not one or lacks the product properties. */
export function readMsi(bytes: Uint8Array, source = 'the file'): MsiProduct {
  let doc: CFBTypes.CFB$Container;
  try {
    doc = CFBMod().read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { type: 'buffer' });
  } catch (e) {
    throw new WaptError('MSI_INVALID', `${source} is not a compound file (MSI): ${(e as Error).message}`, { cause: e });
  }
  const streams = new Map<string, Uint8Array>();
  doc.FileIndex.forEach((entry, i) => {
    if (entry.type !== 2 || !entry.content) return; // 2: stream
    const parts = doc.FullPaths[i]!.split('/').filter(Boolean);
    if (parts.length === 2) streams.set(decodeStreamName(entry.name), Uint8Array.from(entry.content as ArrayLike<number>));
  });
  const need = (name: string): Uint8Array => {
    const s = streams.get(name);
    if (!s) throw new WaptError('MSI_INVALID', `${source} has no ${name} stream: not a Windows Installer database`, { detail: { stream: name } });
    return s;
  };
  const pool = parseStringPool(need('!_StringPool'), need('!_StringData'));
  const properties: Record<string, string> = {};
  for (const [k, v] of readStringTable(need('!Property'), pool, 2)) properties[k!] = v!;

  const missing = ['ProductName', 'ProductVersion', 'ProductCode', 'Manufacturer'].filter((k) => !properties[k]);
  if (missing.length > 0) {
    throw new WaptError('MSI_INVALID', `${source}: the Property table lacks ${missing.join(', ')}`, { detail: { missing } });
  }
  const productCode = properties.ProductCode!.toUpperCase();
  if (!GUID.test(productCode)) throw new WaptError('MSI_INVALID', `${source}: ProductCode ${properties.ProductCode} is not a GUID`);
  return {
    productName: properties.ProductName!,
    productVersion: properties.ProductVersion!,
    productCode,
    manufacturer: properties.Manufacturer!,
    upgradeCode: properties.UpgradeCode ? properties.UpgradeCode.toUpperCase() : null,
    properties,
  };
}
