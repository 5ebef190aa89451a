// A minimal zip writer for the `Packages` index only. The index is one
// in-memory buffer of ~20 MB at 10,000 packages, rewritten on every scan; the
// general writer (yazl) computes CRC-32 in JavaScript (~50 ms for 20 MB here),
// while zlib.crc32 (Node >= 20.15) does it natively in a few ms. Packages are
// still written by package/zip-writer.ts. Plain zip: no zip64 (refused past
// 4 GiB), ASCII member names, temp file + fsync + rename.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { WaptError, asWaptError } from '../../errors.js';
import { checkMemberName } from '../../package/index.js';

const deflateRaw = promisify(zlib.deflateRaw);
const crc32 = (zlib as unknown as { crc32: (data: Buffer, value?: number) => number }).crc32;

export interface IndexZipMember {
  name: string;
  data: Buffer;
  compress: boolean;
}

/** DOS date/time of the UTC wall clock (so the bytes do not depend on TZ), clamped to 1980-2107. */
function dosDateTime(d: Date): { date: number; time: number } {
  const t = new Date(Math.min(Math.max(d.getTime(), Date.UTC(1980, 0, 1)), Date.UTC(2107, 11, 31, 23, 59, 58)));
  return {
    date: t.getUTCDate() | ((t.getUTCMonth() + 1) << 5) | ((t.getUTCFullYear() - 1980) << 9),
    time: (t.getUTCSeconds() >> 1) | (t.getUTCMinutes() << 5) | (t.getUTCHours() << 11),
  };
}

const U32_MAX = 0xffffffff;
const CHUNK = 2 * 1024 * 1024;

/**
 * Deflate in independent chunks run in parallel on the thread pool (as pigz
 * does): every chunk but the last ends with a full flush (byte-aligned, no final
 * bit, no back-references across it), so the concatenation is one valid raw
 * deflate stream. Costs a few hundred bytes per 2 MiB; halves the wall time.
 */
async function deflateParallel(data: Buffer, level: number): Promise<Buffer> {
  if (data.length <= CHUNK) return deflateRaw(data, { level });
  const parts: Promise<Buffer>[] = [];
  for (let at = 0; at < data.length; at += CHUNK) {
    const last = at + CHUNK >= data.length;
    parts.push(deflateRaw(data.subarray(at, at + CHUNK), { level, finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_FULL_FLUSH }));
  }
  return Buffer.concat(await Promise.all(parts));
}

export async function writeIndexZip(dest: string, members: IndexZipMember[], opts: { mtime: Date; level?: number }): Promise<{ size: number }> {
  const { date, time } = dosDateTime(opts.mtime);
  const bodies: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    checkMemberName(m.name);
    if (!/^[\x20-\x7e]+$/.test(m.name)) throw new WaptError('INTERNAL', `index member names are ASCII: ${m.name}`);
    const name = Buffer.from(m.name, 'ascii');
    const data = m.compress ? await deflateParallel(m.data, opts.level ?? 6) : m.data;
    const crc = crc32(m.data) >>> 0;
    if (m.data.length > U32_MAX || offset + data.length > U32_MAX) throw new WaptError('INTERNAL', 'the index zip would exceed 4 GiB');
    const method = m.compress ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0, 6); // flags: sizes known up front, names ASCII
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(m.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0 (so the mode below is read)
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(time, 12);
    cd.writeUInt16LE(date, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(m.data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    // extra, comment, disk, internal attributes: 0
    cd.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    cd.writeUInt32LE(offset, 42);
    bodies.push(local, name, data);
    central.push(cd, name);
    offset += local.length + name.length + data.length;
  }
  const cdSize = central.reduce((n, b) => n + b.length, 0);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(members.length, 8);
  eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cdSize, 12);
  eocd.writeUInt32LE(offset, 16);
  return writeAtomically(dest, [...bodies, ...central, eocd]);
}

async function writeAtomically(dest: string, parts: Buffer[]): Promise<{ size: number }> {
  // A fresh random name, created exclusively and never through a symlink (issue 8 §2: uploaders share the directory).
  const tmp = `${dest}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const size = parts.reduce((n, b) => n + b.length, 0);
  try {
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o644);
    try {
      const { bytesWritten } = await fh.writev(parts);
      if (bytesWritten !== size) throw new WaptError('IO_ERROR', `short write to ${tmp} (${bytesWritten} of ${size} bytes)`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw asWaptError(err);
  }
  return { size };
}
