// The `.part` file of a download and its `.part.json` sidecar, which records
// the validator (ETag / Last-Modified) the bytes came with, so a later
// `Range` + `If-Range` request can only ever append bytes of the same entity.
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Hash } from 'node:crypto';

export interface PartMeta {
  url: string;
  etag?: string;
  lastModified?: string;
}

export interface PartState {
  size: number;
  meta: PartMeta;
}

export const partPath = (dest: string): string => `${dest}.part`;
const metaPath = (dest: string): string => `${dest}.part.json`;

/** The resumable part for `url`, or null when there is none or it cannot be trusted. */
export async function readPart(dest: string, url: string): Promise<PartState | null> {
  try {
    const meta = JSON.parse(await readFile(metaPath(dest), 'utf8')) as PartMeta;
    const { size } = await stat(partPath(dest));
    if (meta.url !== url || size === 0 || !ifRangeValue(meta)) return null;
    return { size, meta };
  } catch {
    return null;
  }
}

/** If-Range needs a strong ETag (RFC 9110 §13.1.5); fall back to the date. */
export function ifRangeValue(meta: PartMeta): string | undefined {
  if (meta.etag && !meta.etag.startsWith('W/')) return meta.etag;
  return meta.lastModified;
}

export async function writePartMeta(dest: string, meta: PartMeta): Promise<void> {
  await writeFile(metaPath(dest), JSON.stringify(meta));
}

export async function removePart(dest: string): Promise<void> {
  await Promise.all([rm(partPath(dest), { force: true }), rm(metaPath(dest), { force: true })]);
}

/** Feed the bytes already on disk into the running hash before appending. */
export async function hashExisting(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: WRITE_BLOCK })) hash.update(chunk as Buffer);
}

/** Largest coalesced write: TLS hands over ≤16 KiB per chunk. */
export const WRITE_BLOCK = 1024 * 1024;

/** Blocks of finished writers, reused: a run of 100 downloads need not allocate 200 MiB for the GC. */
const spareBlocks: Buffer[] = [];
const SPARE_MAX = 8;
const takeBlock = (): Buffer => spareBlocks.pop() ?? Buffer.allocUnsafeSlow(WRITE_BLOCK);
const giveBlock = (b: Buffer): void => {
  if (spareBlocks.length < SPARE_MAX) spareBlocks.push(b);
};

/**
 * Appends to the `.part` with write-behind: chunks are copied into one of two
 * reused blocks; whenever no write is in flight, what has accumulated is
 * written (fs.write on the fd, no stream layer) while the other block fills.
 * On a slow link every chunk reaches the disk at once (a killed run loses
 * nothing it received); on a fast one writes grow to up to 1 MiB. At most one
 * write is in flight and 2 MiB is held. Every byte accepted by `write` reaches
 * the file by the end of `close()` unless a write fails; that error is thrown
 * (from `write` or `close`) with its `syscall` ('write', 'close').
 */
export class PartWriter {
  private readonly blocks = [takeBlock(), takeBlock()];
  private current = 0;
  private fill = 0;
  /** Never rejects: a failure lands in `failed`. */
  private inFlight: Promise<void> | null = null;
  private failed: { err: unknown } | null = null;
  /** Set by close(): a write still waiting must not copy into blocks handed to another writer. */
  private closed = false;

  private constructor(private readonly fh: FileHandle) {}

  static async open(dest: string, append: boolean): Promise<PartWriter> {
    return new PartWriter(await open(partPath(dest), append ? 'a' : 'w'));
  }

  /** undefined (nothing to wait for) unless the chunk does not fit beside a write in flight: backpressure. */
  write(chunk: Buffer): Promise<void> | undefined {
    if (this.failed) return Promise.reject(this.failed.err);
    if (chunk.length > WRITE_BLOCK - this.fill) return this.writeFilling(chunk);
    chunk.copy(this.blocks[this.current]!, this.fill);
    this.fill += chunk.length;
    if (!this.inFlight) this.start();
    return undefined;
  }

  /** Writes what is buffered and closes the file; the file is closed even when a write fails. */
  async close(): Promise<void> {
    this.closed = true;
    try {
      while (this.inFlight || (this.fill > 0 && !this.failed)) {
        if (this.inFlight) await this.inFlight;
        else this.start();
      }
      if (this.failed) throw this.failed.err;
    } finally {
      await this.fh.close();
      if (!this.inFlight) for (const b of this.blocks) giveBlock(b);
    }
  }

  private async writeFilling(chunk: Buffer): Promise<void> {
    for (let off = 0; off < chunk.length;) {
      while (this.fill === WRITE_BLOCK) {
        if (this.failed) throw this.failed.err;
        if (this.inFlight)
          await this.inFlight; // its completion starts the full block
        else this.start();
        if (this.closed) throw new Error('the part file was closed while a write waited');
      }
      const n = chunk.copy(this.blocks[this.current]!, this.fill, off);
      this.fill += n;
      off += n;
    }
    if (!this.inFlight) this.start();
  }

  /** Writes the current block (no write in flight, fill > 0) and switches to the other one. */
  private start(): void {
    const block = this.blocks[this.current]!.subarray(0, this.fill);
    this.current ^= 1;
    this.fill = 0;
    this.inFlight = writeAll(this.fh, block).then(
      () => {
        this.inFlight = null;
        if (this.fill > 0) this.start(); // write-behind: what arrived meanwhile goes next
      },
      (err: unknown) => {
        this.inFlight = null;
        this.failed = { err };
      },
    );
  }
}

async function writeAll(fh: FileHandle, block: Buffer): Promise<void> {
  for (let off = 0; off < block.length;) off += (await fh.write(block, off, block.length - off)).bytesWritten;
}

/** fsync the part, rename it over dest, fsync the directory (best effort). */
export async function commitPart(dest: string): Promise<void> {
  const fh = await open(partPath(dest), 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(partPath(dest), dest);
  await rm(metaPath(dest), { force: true });
  try {
    const dir = await open(dirname(dest), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // some platforms/filesystems refuse fsync on a directory; the rename is still atomic
  }
}
