// Low-level pieces of the zip reader: a yauzl RandomAccessReader that reads in
// 1 MiB chunks, and the stream that checks a member's bytes against its
// central-directory size and CRC-32 (yauzl checks sizes but never the CRC).

import { close, read } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { WaptError } from '../errors.js';
import { HASH_READ_SIZE } from './hash-stream.js';

// Node >= 20.15 has zlib.crc32; it is the same table-free native code zip uses.
const crc32 = (zlib as unknown as { crc32: (data: Buffer, value?: number) => number }).crc32;

/**
 * yauzl's own fd reader uses the 16 KiB stream default; hashing a 1 GiB member
 * through that costs ~65k reads and as many callbacks. This reader gives yauzl
 * positional 1 MiB reads on one fd (same inode for the whole session).
 */
export class FdReader extends yauzl.RandomAccessReader {
  // yauzl's reference count (untyped): the fd is closed when it drops to zero.
  declare ref: () => void;
  declare unref: () => void;

  constructor(readonly fd: number) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return new RangeStream(this.fd, start, end);
  }

  // yauzl calls back with (err, bytesRead) and treats a short read as EOF; the
  // published types omit bytesRead.
  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    read(this.fd, buffer, offset, length, position, callback as (err: Error | null, n: number) => void);
  }

  override close(callback: (err: Error | null) => void): void {
    close(this.fd, callback);
  }
}

/**
 * Positional reads of [start, end) on a shared fd. Not fs.createReadStream:
 * destroying that closes the fd even with autoClose:false, and yauzl destroys
 * its streams while the fd is still in use by others.
 */
class RangeStream extends Readable {
  private pos: number;

  constructor(
    private readonly fd: number,
    start: number,
    private readonly end: number,
  ) {
    super({ highWaterMark: HASH_READ_SIZE });
    this.pos = start;
  }

  override _read(): void {
    const want = Math.min(HASH_READ_SIZE, this.end - this.pos);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(want);
    read(this.fd, buf, 0, want, this.pos, (err, n) => {
      if (err) return this.destroy(err);
      if (n === 0) return this.push(null); // early EOF: yauzl's byte counter reports it
      this.pos += n;
      this.push(n === want ? buf : buf.subarray(0, n));
    });
  }
}

export interface VerifyTarget {
  file: string;
  member: string;
  size: number;
  /** Omitted: CRC not computed (the caller checks a stronger digest itself). */
  crc32?: number;
}

/** Passes bytes through; fails as soon as there are more than declared (ZIP_BOMB), or at the end on too few or a bad CRC (ZIP_INVALID). */
export class VerifyStream extends Transform {
  private count = 0;
  private crc = 0;

  constructor(private readonly t: VerifyTarget) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    if (this.count > this.t.size) {
      cb(
        new WaptError('ZIP_BOMB', `${this.t.file}: member ${this.t.member} expands beyond its declared size of ${this.t.size} bytes`, {
          detail: { file: this.t.file, member: this.t.member, declared: this.t.size },
        }),
      );
      return;
    }
    if (this.t.crc32 !== undefined) this.crc = crc32(chunk, this.crc);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const { file, member, size } = this.t;
    if (this.count < size) {
      cb(zipInvalid(file, `member ${member} ends after ${this.count} of ${size} bytes`, { member }));
    } else if (this.t.crc32 !== undefined && this.crc >>> 0 !== this.t.crc32 >>> 0) {
      cb(zipInvalid(file, `member ${member} fails its CRC-32 check`, { member }));
    } else {
      cb();
    }
  }
}

/** Two reusable buffers for readVerifiedRange (allocUnsafeSlow: outside the shared pool, never zeroed). */
export function readBuffers(size = HASH_READ_SIZE): [Buffer, Buffer] {
  return [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
}

/** Settles with the bytes read or the error: a read in flight while `use` runs must not be an unhandled rejection. */
function readAt(fd: number, buf: Buffer, length: number, position: number): Promise<{ err: Error } | { chunk: Buffer }> {
  return new Promise((resolve) => {
    read(fd, buf, 0, length, position, (err, n) => resolve(err ? { err } : { chunk: buf.subarray(0, n) }));
  });
}

/**
 * The `t.size` stored bytes at `start` of `fd`, read alternately into the two
 * caller-owned `bufs` with the next read in flight while `use` works on the
 * current chunk: no allocation or GC per chunk, and I/O overlaps hashing or
 * writing. A chunk is only valid until the promise `use` returns settles.
 * Same checks and errors as VerifyStream (too few bytes, CRC-32 when
 * `t.crc32` is set); read errors become ZIP_INVALID as in verifiedChain;
 * errors thrown by `use` propagate unchanged.
 */
export async function readVerifiedRange(
  fd: number,
  start: number,
  t: VerifyTarget,
  bufs: [Buffer, Buffer],
  use: (chunk: Buffer) => void | Promise<void>,
): Promise<void> {
  const end = start + t.size;
  const next = (i: number, pos: number): ReturnType<typeof readAt> | null => {
    if (pos >= end) return null;
    const buf = bufs[i & 1]!;
    return readAt(fd, buf, Math.min(buf.length, end - pos), pos);
  };
  let pos = start;
  let crc = 0;
  let pending = next(0, pos);
  try {
    for (let i = 1; pending; i++) {
      const got = await pending;
      pending = null;
      if ('err' in got) throw zipInvalid(t.file, `member ${t.member}: ${got.err.message}`, { member: t.member }, got.err);
      const { chunk } = got;
      if (chunk.length === 0) break; // the file shrank under us: reported below as too few bytes
      pos += chunk.length;
      pending = next(i, pos); // into the other buffer: `use` is done with it
      if (t.crc32 !== undefined) crc = crc32(chunk, crc);
      await use(chunk);
    }
  } finally {
    // Never return (and let the buffers or the fd be reused) under a read still in flight.
    await pending;
  }
  const count = pos - start;
  if (count < t.size) throw zipInvalid(t.file, `member ${t.member} ends after ${count} of ${t.size} bytes`, { member: t.member });
  if (t.crc32 !== undefined && crc >>> 0 !== t.crc32 >>> 0) throw zipInvalid(t.file, `member ${t.member} fails its CRC-32 check`, { member: t.member });
}

export function zipInvalid(file: string, why: string, detail: Record<string, unknown> = {}, cause?: unknown): WaptError {
  return new WaptError('ZIP_INVALID', `${file} is not a valid zip: ${why}`, { detail: { file, ...detail }, cause });
}

/**
 * raw (compressed bytes, length already enforced by yauzl) → inflate when
 * method 8 → VerifyStream. Errors anywhere surface on the returned stream as
 * WaptErrors; destroying the returned stream tears down the whole chain.
 */
export function verifiedChain(raw: Readable, deflated: boolean, t: VerifyTarget): Readable {
  const verify = new VerifyStream(t);
  const stages: Readable[] = [raw];
  const fail = (err: unknown) => {
    if (!verify.destroyed)
      verify.destroy(err instanceof WaptError ? err : zipInvalid(t.file, `member ${t.member}: ${(err as Error).message}`, { member: t.member }, err));
  };
  raw.on('error', fail);
  if (deflated) {
    // Larger output chunks than zlib's 16 KiB default: fewer callbacks per GiB.
    const inflate = zlib.createInflateRaw({ chunkSize: 256 * 1024 });
    inflate.on('error', fail);
    raw.pipe(inflate).pipe(verify);
    stages.push(inflate);
  } else {
    raw.pipe(verify);
  }
  // Small members can fail (CRC) before the caller has attached its handlers;
  // the error stays on the stream (`errored`) and reaches the caller when it
  // consumes it (pipeline, for await), instead of crashing the process.
  verify.on('error', () => undefined);
  verify.once('close', () => {
    for (const s of stages) s.destroy();
  });
  return verify;
}
