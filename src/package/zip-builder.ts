// Streaming, deterministic zip writer that hashes each member as it is written.
// Building a package needs the payload's SHA-256 before the manifest member can be
// added, and reading every payload file twice would double the I/O; yazl accepts
// new entries while earlier ones stream, so hashes come out of the same pass.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extname } from 'node:path';
import type yazlTypes from 'yazl';
import { asWaptError } from '../errors.js';
import { lazyRequire } from '../lazy-require.js';
import { checkMemberName } from './zip-names.js';

// loaded on first use (src/lazy-require.ts)
const yazlMod = lazyRequire<typeof yazlTypes>('yazl');

const FILE_MODE = 0o100644;

/**
 * Stored, not deflated: formats that are already compressed. Deflate gains
 * ~0-2% on them for a lot of CPU, and stored members are hashed at disk speed
 * when packages are verified (hashAllMembers is the hot path). Installers
 * (exe/msi/msu/cab) are almost always compressed archives themselves.
 */
const STORED_EXTENSIONS = new Set(
  (
    'zip gz tgz bz2 tbz xz txz lz lzma zst 7z rar cab msi msu msix appx exe jar war apk ' +
    'deb rpm wapt nupkg whl dmg iso jpg jpeg png gif webp avif heic mp3 mp4 m4a mkv webm ogg ' +
    'docx xlsx pptx odt ods odp woff woff2'
  ).split(' '),
);

export function shouldCompress(name: string): boolean {
  return !STORED_EXTENSIONS.has(extname(name).slice(1).toLowerCase());
}

/**
 * yazl encodes the DOS timestamp from a Date's *local* getters, so the bytes
 * would depend on the machine's time zone (and shift inside DST gaps). This
 * Date reports its UTC fields through the local getters: the DOS fields carry
 * UTC wall-clock time everywhere. With forceDosTimestamp yazl adds no UT extra
 * field, which would otherwise hold the same instant a second time.
 */
class UtcFieldsDate extends Date {
  override getFullYear(): number {
    return this.getUTCFullYear();
  }
  override getMonth(): number {
    return this.getUTCMonth();
  }
  override getDate(): number {
    return this.getUTCDate();
  }
  override getHours(): number {
    return this.getUTCHours();
  }
  override getMinutes(): number {
    return this.getUTCMinutes();
  }
  override getSeconds(): number {
    return this.getUTCSeconds();
  }
}

/** Clamped one day inside DOS's 1980-2107 range so yazl's own (local-time) clamp never applies. */
function dosMtime(d: Date): Date {
  const min = Date.UTC(1980, 0, 2);
  const max = Date.UTC(2107, 11, 30);
  return new UtcFieldsDate(Math.min(Math.max(d.getTime(), min), max));
}

/** yazl entry options that make a member's bytes depend only on its name, data, mtime and level. */
export function deterministicEntryOptions(name: string, o: { mtime: Date; level: number; compress?: boolean }) {
  const compress = o.compress ?? shouldCompress(name);
  return {
    mtime: dosMtime(o.mtime),
    mode: FILE_MODE,
    compress,
    compressionLevel: compress ? o.level : 0,
    forceZip64Format: false,
    forceDosTimestamp: true,
  };
}

export interface ZipBuilderOptions {
  /** Every member gets this mtime: same inputs give the same bytes. */
  mtime: Date;
  level?: number;
}

export class ZipBuilder {
  private readonly zip = new (yazlMod().ZipFile)();
  private readonly tmp: string;
  private readonly written: Promise<void>;
  private readonly opts: Required<ZipBuilderOptions>;

  private constructor(
    readonly dest: string,
    opts: ZipBuilderOptions,
  ) {
    this.opts = { level: 6, ...opts };
    this.tmp = `${dest}.tmp-${process.pid}`;
    this.written = pipeline(this.zip.outputStream, createWriteStream(this.tmp, { flags: 'w', mode: 0o644 })).catch((err: unknown) => {
      throw asWaptError(err);
    });
    // If the output fails, yazl stops reading the member streams: every pending
    // addStream() must fail with it instead of waiting forever.
    this.failed = new Promise<never>((_, reject) => this.written.catch(reject));
    this.failed.catch(() => undefined);
  }

  private readonly failed: Promise<never>;

  static create(dest: string, opts: ZipBuilderOptions): ZipBuilder {
    return new ZipBuilder(dest, opts);
  }

  /** Same member encoding as writeZip: reproducible in any time zone; unsafe names never written. */
  private entryOptions(name: string, compress: boolean | undefined) {
    checkMemberName(name);
    return deterministicEntryOptions(name, { mtime: this.opts.mtime, level: this.opts.level, compress });
  }

  /** Streams `stream` into the zip and resolves with its SHA-256 once yazl has consumed it. */
  addStream(name: string, stream: Readable, compress?: boolean): Promise<string> {
    const hash = createHash('sha256');
    const tee = new Transform({
      highWaterMark: 1 << 20,
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    const done = new Promise<string>((resolve, reject) => {
      tee.on('end', () => resolve(hash.digest('hex')));
      tee.on('error', reject);
      stream.on('error', (err) => {
        tee.destroy(err);
        reject(err);
      });
    });
    stream.pipe(tee);
    this.zip.addReadStream(tee, name, this.entryOptions(name, compress));
    return Promise.race([done, this.failed]);
  }

  addFile(name: string, path: string, compress?: boolean): Promise<string> {
    return this.addStream(name, createReadStream(path, { highWaterMark: 1 << 20 }), compress);
  }

  addBuffer(name: string, data: Buffer, compress?: boolean): string {
    this.zip.addBuffer(data, name, this.entryOptions(name, compress));
    return createHash('sha256').update(data).digest('hex');
  }

  /** Writes the central directory, fsyncs, renames over dest. */
  async finish(): Promise<void> {
    this.zip.end();
    try {
      await this.written;
      const fh = await open(this.tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(this.tmp, this.dest);
    } catch (err) {
      await rm(this.tmp, { force: true }).catch(() => undefined);
      throw asWaptError(err);
    }
  }

  async abort(): Promise<void> {
    (this.zip.outputStream as unknown as Readable).destroy();
    await this.written.catch(() => undefined);
    await rm(this.tmp, { force: true }).catch(() => undefined);
  }
}
