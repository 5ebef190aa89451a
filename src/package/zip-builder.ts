// Streaming, deterministic zip writer that hashes each member as it is written.
// Building a package needs the payload's SHA-256 before the manifest member can be
// added, and reading every payload file twice would double the I/O; yazl accepts
// new entries while earlier ones stream, so hashes come out of the same pass.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { asWaptError } from '../errors.js';
import { checkMemberName } from './zip-names.js';
import { deterministicEntryOptions } from './zip-writer.js';


export interface ZipBuilderOptions {
  /** Every member gets this mtime: same inputs give the same bytes. */
  mtime: Date;
  level?: number;
}

export class ZipBuilder {
  private readonly zip = new yazl.ZipFile();
  private readonly tmp: string;
  private readonly written: Promise<void>;
  private readonly opts: Required<ZipBuilderOptions>;

  private constructor(readonly dest: string, opts: ZipBuilderOptions) {
    this.opts = { level: 6, ...opts };
    this.tmp = `${dest}.tmp-${process.pid}`;
    this.written = pipeline(this.zip.outputStream, createWriteStream(this.tmp, { flags: 'w', mode: 0o644 })).catch(
      (err: unknown) => {
        throw asWaptError(err);
      },
    );
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
