// A raw zip writer for tests: it writes what yazl (rightly) refuses to write,
// so the reader can be shown to refuse it. Local headers + central directory
// by hand, no data descriptors, no zip64.

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import zlib from 'node:zlib';

export interface EvilEntry {
  name: string;
  data: Buffer;
  /** Uncompressed size written in both headers (default: data.length). */
  declaredSize?: number;
  /** Unix mode; written as external attributes `mode << 16` with "made by Unix". */
  mode?: number;
  method?: 'store' | 'deflate';
  /** CRC-32 written in both headers (default: the real one). */
  crc?: number;
  /** Central entry points at the local header of entry #n instead of its own (overlap). */
  sameDataAs?: number;
}

const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Buffer): number {
  const native = (zlib as unknown as { crc32?: (d: Buffer) => number }).crc32;
  if (native) return native(data) >>> 0;
  let c = 0xffffffff;
  for (const b of data) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function buildEvilZip(entries: EvilEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  const offsets: number[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const utf8 = /[^\x00-\x7f]/.test(e.name) ? 0x800 : 0;
    const method = e.method === 'deflate' ? 8 : 0;
    const body = method === 8 ? zlib.deflateRawSync(e.data) : e.data;
    const crc = e.crc ?? crc32(e.data);
    const usize = e.declaredSize ?? e.data.length;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(utf8, 6);
    lh.writeUInt16LE(method, 8);
    lh.writeUInt16LE(0, 10); // time
    lh.writeUInt16LE((44 << 9) | (1 << 5) | 1, 12); // 2024-01-01
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(usize, 22);
    lh.writeUInt16LE(name.length, 26);
    lh.writeUInt16LE(0, 28);
    offsets.push(offset);
    const local = Buffer.concat([lh, name, body]);
    locals.push(local);

    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(e.mode === undefined ? 20 : (3 << 8) | 20, 4);
    lh.copy(ch, 6, 4, 30); // version needed … extra length: same as the local header
    ch.writeUInt16LE(0, 32); // comment length
    ch.writeUInt16LE(0, 34); // disk
    ch.writeUInt16LE(0, 36); // internal attrs
    ch.writeUInt32LE(e.mode === undefined ? 0 : (e.mode << 16) >>> 0, 38);
    ch.writeUInt32LE(e.sameDataAs === undefined ? offset : offsets[e.sameDataAs]!, 42);
    centrals.push(Buffer.concat([ch, name]));
    offset += local.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

export async function writeEvilZip(path: string, entries: EvilEntry[]): Promise<void> {
  await fsp.writeFile(path, buildEvilZip(entries));
}

/** Keeps the first `fraction` of the file (0.5: cut in half). */
export async function truncateFile(path: string, fraction: number): Promise<void> {
  const { size } = await fsp.stat(path);
  await fsp.truncate(path, Math.floor(size * fraction));
}

export async function writeRandomBytes(path: string, size: number): Promise<void> {
  await fsp.writeFile(path, randomBytes(size));
}

/** XORs one byte at `offset` (negative: from the end). */
export async function flipByte(path: string, offset: number): Promise<void> {
  const buf = await fsp.readFile(path);
  const at = offset < 0 ? buf.length + offset : offset;
  buf[at] = buf[at]! ^ 0xff;
  await fsp.writeFile(path, buf);
}
