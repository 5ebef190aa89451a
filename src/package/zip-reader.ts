// Safe reading of a hostile .wapt zip (W-A1). The central directory is read
// once and every entry is checked before any byte of data is trusted: names,
// symlinks, duplicates, declared sizes, overlap (the rules live in zip-rules.ts,
// shared with zip-small.ts). Data is then read as streams that re-check size
// and CRC-32. Nothing here knows about signatures.

import { createHash } from 'node:crypto';
import { close, fstat, open as openCb } from 'node:fs';
import { promisify } from 'node:util';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { WaptError, asWaptError } from '../errors.js';
import { FdReader, readBuffers, readVerifiedRange, verifiedChain, zipInvalid } from './zip-member-stream.js';
import {
  checkArchive,
  checkEntry,
  checkMemberCount,
  isDirectoryName,
  resolveLimits,
  zipBomb,
  type ZipEntryFacts,
  type ZipLimits,
  type ZipMember,
} from './zip-rules.js';
import { HASH_READ_SIZE } from './hash-stream.js';

export type { ZipLimits, ZipMember } from './zip-rules.js';

const openFd = promisify(openCb);
const fstatFd = promisify(fstat);
const closeFd = promisify(close);

/** Low-level I/O errors keep their errno mapping; anything yauzl says about structure means "not a valid zip". */
function openError(file: string, err: unknown): WaptError {
  if (err instanceof WaptError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return asWaptError(err);
  return zipInvalid(file, (err as Error)?.message ?? String(err), {}, err);
}

interface Held {
  entry: yauzl.Entry;
  member: ZipMember;
  facts: ZipEntryFacts;
}

export class PackageZip {
  readonly members: ZipMember[];
  private readonly byName: Map<string, Held>;

  private constructor(
    readonly path: string,
    private readonly zipfile: yauzl.ZipFile,
    private readonly reader: FdReader,
    held: Held[],
  ) {
    this.members = held.map((h) => h.member);
    this.byName = new Map(held.map((h) => [h.member.name, h]));
  }

  static async open(path: string, limits: ZipLimits = {}): Promise<PackageZip> {
    const lim = resolveLimits(limits);
    // A numeric fd, not a FileHandle: yauzl's reader closes it with fs.close.
    let fd: number;
    try {
      fd = await openFd(path, 'r');
    } catch (err) {
      throw asWaptError(err);
    }
    let zipfile: yauzl.ZipFile;
    const reader = new FdReader(fd);
    try {
      const { size } = await fstatFd(fd);
      // decodeStrings:false so names are decoded below with strictFileNames=true:
      // yauzl's lenient mode silently turns `a\b` into `a/b`, and its own name
      // check would fail with an untyped error before ours could run.
      zipfile = await yauzl.fromRandomAccessReaderPromise(reader, size, {
        lazyEntries: true,
        autoClose: false,
        decodeStrings: false,
        validateEntrySizes: true,
        strictFileNames: false,
      });
    } catch (err) {
      await closeFd(fd).catch(() => undefined);
      throw openError(path, err);
    }
    // From here the fd belongs to yauzl's reader: zipfile.close() releases it.
    try {
      checkMemberCount(path, zipfile.entryCount, lim.maxMembers);
      const held: Held[] = [];
      for await (const entry of zipfile.eachEntry()) held.push(readEntry(path, entry, lim.maxRatio));
      checkArchive(
        path,
        zipfile.fileSize,
        held.map((h) => h.facts),
        lim.maxTotalUncompressed,
      );
      return new PackageZip(path, zipfile, reader, held);
    } catch (err) {
      zipfile.close();
      throw openError(path, err);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The whole (small) member in memory; refuses members declared larger than maxBytes. */
  async readMember(name: string, maxBytes: number): Promise<Buffer> {
    const { member } = this.get(name);
    if (member.uncompressedSize > maxBytes) {
      throw zipBomb(this.path, `member ${name} is ${member.uncompressedSize} bytes, more than the ${maxBytes} allowed here`, {
        member: name,
        size: member.uncompressedSize,
        maxBytes,
      });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of await this.openMemberStream(name)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** The member's uncompressed bytes, checked against its declared size (ZIP_BOMB beyond it) and CRC-32 (ZIP_INVALID). */
  async openMemberStream(name: string): Promise<Readable> {
    return this.stream(name, true);
  }

  /**
   * sha256 (lowercase hex) of every non-directory member, one streaming pass in
   * central-directory order. Sizes are enforced as in openMemberStream, but the
   * CRC-32 is not computed: these digests are checked against the signed
   * manifest, which the CRC cannot add to, and it costs about half the time of
   * SHA-256 (with SHA-NI) on this hot path (W-D3).
   */
  async hashAllMembers(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const buffers = readBuffers(); // the bytes never leave the hash: safe to reuse
    for (const m of this.members) {
      if (m.isDirectory) continue;
      const h = createHash('sha256');
      await this.forEachChunk(m.name, (chunk) => void h.update(chunk), { crc: false, buffers });
      out.set(m.name, h.digest('hex'));
    }
    return out;
  }

  /**
   * The member's uncompressed bytes through `use`, for consumers that do not
   * keep chunks. Stored members are read into two reused buffers (`buffers`, or
   * a pair made for the call) and a chunk is only valid until the promise `use`
   * returns settles; deflated members come from the inflating stream. Checks as
   * openMemberStream: declared size, and CRC-32 when `crc` is set.
   */
  async forEachChunk(name: string, use: (chunk: Buffer) => void | Promise<void>, opts: { crc: boolean; buffers?: [Buffer, Buffer] }): Promise<void> {
    const { entry, member } = this.get(name);
    if (member.isDirectory) return;
    if (entry.compressionMethod !== 0) {
      for await (const chunk of await this.stream(name, opts.crc)) await use(chunk as Buffer);
      return;
    }
    if (!this.zipfile.isOpen) throw openError(this.path, new Error('closed'));
    this.reader.ref(); // as yauzl's own streams do: close() must not release the fd under us
    try {
      let start: number;
      try {
        ({ fileDataStart: start } = await this.zipfile.readLocalFileHeaderPromise(entry, { minimal: true }));
      } catch (err) {
        throw openError(this.path, err);
      }
      const t = { file: this.path, member: name, size: member.uncompressedSize, crc32: opts.crc ? member.crc32 : undefined };
      await readVerifiedRange(this.reader.fd, start, t, opts.buffers ?? readBuffers(Math.min(HASH_READ_SIZE, Math.max(1, t.size))), use);
    } finally {
      this.reader.unref();
    }
  }

  private async stream(name: string, checkCrc: boolean): Promise<Readable> {
    const { entry, member } = this.get(name);
    if (member.isDirectory) return Readable.from([]);
    let raw: Readable;
    try {
      raw = await this.zipfile.openReadStreamPromise(entry, { decodeFileData: false });
    } catch (err) {
      throw openError(this.path, err);
    }
    return verifiedChain(raw, entry.compressionMethod === 8, {
      file: this.path,
      member: name,
      size: member.uncompressedSize,
      crc32: checkCrc ? member.crc32 : undefined,
    });
  }

  /** Releases the file; streams still open keep it until they end. */
  close(): void {
    this.zipfile.close();
  }

  private get(name: string): Held {
    const held = this.byName.get(name);
    if (!held) throw zipInvalid(this.path, `it has no member ${name}`, { member: name, missing: true });
    return held;
  }
}

/** Decodes the entry's name as yauzl would (strictly) and applies the shared per-entry rules (zip-rules.ts). */
function readEntry(file: string, entry: yauzl.Entry, maxRatio: number): Held {
  const raw = entry.fileName as unknown as Buffer; // decodeStrings:false
  const facts: ZipEntryFacts = {
    name: yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, true),
    externalAttributes: entry.externalFileAttributes,
    generalPurposeBitFlag: entry.generalPurposeBitFlag,
    compressionMethod: entry.compressionMethod,
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
    localHeaderOffset: entry.relativeOffsetOfLocalHeader,
  };
  checkEntry(file, facts, maxRatio);
  const member: ZipMember = {
    name: facts.name,
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
    isDirectory: isDirectoryName(facts.name),
    crc32: entry.crc32 >>> 0,
    mtime: entry.getLastModDate(),
  };
  return { entry, member, facts };
}

/** Opens `path`, reads one member (at most maxBytes), closes. For scanpackages, which needs only WAPT/control (W-F2). */
export async function readZipMemberOnce(path: string, name: string, maxBytes: number): Promise<Buffer> {
  const zip = await PackageZip.open(path);
  try {
    return await zip.readMember(name, maxBytes);
  } finally {
    zip.close();
  }
}
