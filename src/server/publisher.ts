// Package uploads to `serve` (upload-package --to https://…, role admin): the body is
// streamed into an exclusive temp file inside the repository, verified there with the
// server's trusted directory (the file verified is the file published: it is renamed,
// never re-read from the request), named as its control says (W-A3), refused when
// `name_version` already holds other bytes, then the repository is re-indexed and its
// statement re-signed with the index key serve was started with. Without that key
// uploads are refused before any byte is read: serve never publishes an unsigned index
// over a signed one. One upload at a time.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { isWaptError, type WaptError } from '../errors.js';
import type { TrustStore } from '../crypto/index.js';
import { packageFilename, sha256File, verifyPackage } from '../package/index.js';
import { checkPublishTarget, scanPackages, type ScanSigning } from '../repo/index.js';

export interface PublisherOptions {
  repoDir: string;
  trust: TrustStore;
  /** null: uploads are refused (NO_INDEX_KEY). */
  signing: ScanSigning | null;
  maxBytes: number;
  onWarning?: (msg: string) => void;
}

export interface UploadOutcome {
  status: 'published' | 'unchanged' | 'replaced';
  path: string;
  package: string;
  version: string;
  index_version: number | null;
}

/** Why an upload was refused: an HTTP status and one of our stable error codes. */
export class UploadRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const FILENAME = /^[A-Za-z0-9._~+-]+\.wapt$/;

export class Publisher {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: PublisherOptions) {}

  get enabled(): boolean {
    return this.opts.signing !== null;
  }

  /** Serialised: the scan and the statement version must not interleave. */
  accept(req: IncomingMessage, filename: string, force: boolean): Promise<UploadOutcome> {
    const run = this.queue.then(() => this.acceptOne(req, filename, force));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async acceptOne(req: IncomingMessage, filename: string, force: boolean): Promise<UploadOutcome> {
    if (!this.opts.signing)
      throw new UploadRefused(409, 'NO_INDEX_KEY', 'this serve holds no index key (--index-key/--index-cert): it cannot publish a signed index');
    if (!FILENAME.test(filename) || filename.startsWith('.')) throw new UploadRefused(400, 'USAGE', 'the path must name one NAME.wapt file');
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > this.opts.maxBytes) {
      throw new UploadRefused(413, 'HTTP_TOO_LARGE', `the package is larger than this server accepts (${this.opts.maxBytes} bytes)`);
    }
    const tmp = join(this.opts.repoDir, `.upload-${process.pid}-${randomBytes(6).toString('hex')}.wapt`);
    try {
      await receiveUpload(req, tmp, this.opts.maxBytes);
      let v;
      try {
        v = await verifyPackage(tmp, { trust: this.opts.trust });
      } catch (err) {
        const e = err as WaptError;
        throw new UploadRefused(422, isWaptError(err) ? e.code : 'ZIP_INVALID', `${filename}: ${(err as Error).message}`);
      }
      const expected = packageFilename(v.control);
      if (expected !== filename) throw new UploadRefused(400, 'CONTROL_INVALID', `${filename}: its control names it ${expected} (W-A3)`);
      const dest = join(this.opts.repoDir, filename);
      const sha256 = await sha256File(tmp);
      let status;
      try {
        status = await checkPublishTarget(dest, sha256, force);
      } catch (err) {
        if (isWaptError(err, 'PACKAGE_EXISTS')) throw new UploadRefused(409, 'PACKAGE_EXISTS', err.message);
        throw err;
      }
      if (status !== 'unchanged') await rename(tmp, dest);
      const scan = await scanPackages(this.opts.repoDir, { trust: this.opts.trust, sign: this.opts.signing, onWarning: this.opts.onWarning });
      return { status, path: dest, package: v.package, version: v.version, index_version: scan.statementVersion };
    } finally {
      await rm(tmp, { force: true });
    }
  }
}

/** Streams an upload into `tmp` (O_EXCL under a random name: nothing planted is written through), fsynced. */
export async function receiveUpload(req: IncomingMessage, tmp: string, maxBytes: number): Promise<void> {
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw new UploadRefused(413, 'HTTP_TOO_LARGE', `the package is larger than this server accepts (${maxBytes} bytes)`);
      for (let off = 0; off < chunk.length;) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}
