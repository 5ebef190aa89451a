// HttpClient: streaming, resumable, verified downloads into `dest` via
// `dest.part` (never a partial file under the final name), with bounded
// retries, TLS trust per verify_cert (W-G4), proxy, mTLS and a rate cap.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { basename, dirname } from 'node:path';
import { WaptError, asWaptError } from '../../errors.js';
import { makeDispatchers, type DispatcherOptions, type Dispatchers } from './dispatcher.js';
import { isRetryable, mapFetchError, redactUrl } from './errors.js';
import { commitPart, hashExisting, ifRangeValue, partPath, PartWriter, readPart, removePart, writePartMeta } from './part-file.js';
import { discard, header, send, type SendContext } from './request.js';
import { sharedBucket } from './throttle.js';
import { limitFired, NO_TRANSFER_LIMITS, Watchdog, type TransferLimits } from './watchdog.js';

/** Connection settings (TLS trust, proxy, client certificate, timeouts: see DispatcherOptions) plus the client's own. */
export interface HttpOptions extends DispatcherOptions {
  retries: number;
  retryBaseMs: number;
  maxRedirects: number;
  allowInsecureHttp: boolean;
  userAgent: string;
  limitRateBytesPerSec?: number;
  /** transfer_timeout, low_speed_limit, low_speed_time (default: none). */
  limits?: TransferLimits;
  onWarning?: (msg: string) => void;
}

export interface FetchOptions {
  expectedSha256?: string;
  expectedSize?: number;
  maxBytes?: number;
  /**
   * Continue a `.part` left by an earlier call (retries within a call always resume).
   * With `conditional` too: a resumable part is continued, else the conditional GET is sent.
   */
  resume?: boolean;
  /** Throwing from it aborts the download (no retry; the .part is kept for `resume`). */
  onProgress?: (done: number, total: number | null) => void;
  /** Without `resume`, any `.part` is dropped: the answer is either 304 or a whole fresh body. */
  conditional?: { etag?: string; lastModified?: string };
}

export interface FetchResult {
  status: 'downloaded' | 'not-modified';
  sha256: string | null;
  size: number;
  etag?: string;
  lastModified?: string;
  resumedFrom: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class HttpClient {
  private readonly dispatchers: Dispatchers;
  private readonly ctx: SendContext;

  constructor(private readonly opts: HttpOptions) {
    if (opts.verifyCert.kind === 'off') {
      opts.onWarning?.('TLS certificate verification is OFF (verify_cert=0): anyone on the network path can impersonate the repository');
    }
    this.dispatchers = makeDispatchers(opts);
    this.ctx = { dispatchers: this.dispatchers, maxRedirects: opts.maxRedirects, allowInsecureHttp: opts.allowInsecureHttp, userAgent: opts.userAgent };
  }

  async close(): Promise<void> {
    await this.dispatchers.close();
  }

  private get limits(): TransferLimits {
    return this.opts.limits ?? NO_TRANSFER_LIMITS;
  }

  /** Epoch ms by which a transfer starting now must be over (0: no deadline). */
  private deadline(): number {
    return this.limits.transferTimeoutMs > 0 ? Date.now() + this.limits.transferTimeoutMs : 0;
  }

  /**
   * Network errors, timeouts and 5xx are retried with exponential backoff; 4xx and TLS
   * errors are not, nor is anything once the transfer's deadline has passed.
   */
  private async withRetry<T>(deadline: number, fn: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(attempt);
      } catch (err) {
        const e = asWaptError(err);
        const pause = Math.min(this.opts.retryBaseMs * 2 ** attempt, 30_000);
        const late = limitFired(e) === 'transfer_timeout' || (deadline > 0 && Date.now() + pause >= deadline);
        if (!isRetryable(e) || attempt >= this.opts.retries || late) {
          if (attempt > 0) e.detail.attempts = attempt + 1;
          throw e;
        }
        await sleep(pause);
      }
    }
  }

  /** Runs one exchange under a watchdog; the limit that fired wins over the abort it caused. */
  private async guarded<T>(url: string, deadline: number, fn: (dog: Watchdog) => Promise<T>): Promise<T> {
    const dog = new Watchdog(url, this.limits, deadline);
    try {
      return await fn(dog);
    } catch (err) {
      throw dog.error ?? err;
    } finally {
      dog.stop();
    }
  }

  /** Any HTTP answer is returned (404 is data for host packages, W-F4); 5xx are retried first. */
  async head(url: string): Promise<{ status: number; headers: Record<string, string> }> {
    const deadline = this.deadline();
    const last = await this.withRetry(deadline, (attempt) =>
      this.guarded(url, deadline, async (dog) => {
        const { res } = await send(this.ctx, url, 'HEAD', {}, dog.signal);
        await discard(res);
        if (res.statusCode >= 500 && attempt < this.opts.retries) throw statusError(res.statusCode, url);
        return res;
      }),
    );
    const headers: Record<string, string> = {};
    for (const name of Object.keys(last.headers)) headers[name] = header(last, name) ?? '';
    return { status: last.statusCode, headers };
  }

  async fetchToFile(url: string, dest: string, fo: FetchOptions = {}): Promise<FetchResult> {
    if (!fo.resume) await removePart(dest);
    const deadline = this.deadline();
    return this.withRetry(deadline, (attempt) => this.guarded(url, deadline, (dog) => this.attempt(url, dest, fo, attempt > 0 || !!fo.resume, dog)));
  }

  private async attempt(url: string, dest: string, fo: FetchOptions, mayResume: boolean, dog: Watchdog): Promise<FetchResult> {
    const part = mayResume ? await readPart(dest, url) : null;
    // a part to continue wins over the conditional GET (If-Range keeps it to the same entity)
    const conditional = part ? undefined : fo.conditional;
    const extra: Record<string, string> = {};
    if (part) {
      extra.range = `bytes=${part.size}-`;
      extra['if-range'] = ifRangeValue(part.meta)!;
    }
    if (conditional?.etag) extra['if-none-match'] = conditional.etag;
    if (conditional?.lastModified) extra['if-modified-since'] = conditional.lastModified;

    const { finalUrl, res } = await send(this.ctx, url, 'GET', extra, dog.signal);
    const etag = header(res, 'etag');
    const lastModified = header(res, 'last-modified');
    const status = res.statusCode;
    if (status === 304 && conditional) {
      await discard(res);
      await removePart(dest); // a part we could not continue (another URL, no validator) is garbage
      return { status: 'not-modified', sha256: null, size: 0, etag, lastModified, resumedFrom: 0 };
    }
    const append = status === 206 && part !== null && contentRangeStart(header(res, 'content-range')) === part.size;
    if (part && (status === 416 || (status === 206 && !append))) {
      // Nothing left to send, or a range we did not ask for: drop the part and fetch it whole.
      await discard(res);
      await removePart(dest);
      return this.attempt(url, dest, fo, false, dog);
    }
    if (status !== 200 && !append) {
      await discard(res);
      throw statusError(status, finalUrl.href);
    }
    // We ask for identity: a body compressed anyway would be stored, hashed and refused as
    // a damaged file, naming the wrong cause. Name the right one (server or proxy config).
    const encoding = header(res, 'content-encoding')?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      await discard(res);
      throw contentEncodingError(finalUrl.href, encoding);
    }
    const start = append ? part!.size : 0;
    const length = numberOrNull(header(res, 'content-length'));
    const total = length === null ? null : start + length;
    const fail = async (e: WaptError): Promise<never> => {
      // undici emits UND_ERR_ABORTED on a destroyed body: without a listener it would crash the process.
      res.body.on('error', () => undefined);
      res.body.destroy();
      await removePart(dest);
      throw e;
    };
    if (fo.maxBytes !== undefined && total !== null && total > fo.maxBytes) {
      await fail(tooLarge(url, total, fo.maxBytes));
    }
    if (fo.expectedSize !== undefined && total !== null && total !== fo.expectedSize) {
      await fail(badDigest(url, `size ${total} announced, ${fo.expectedSize} expected`));
    }
    await writePartMeta(dest, { url, etag, lastModified });

    const hash = createHash('sha256');
    if (append) await hashExisting(partPath(dest), hash);
    let done = start;
    // one bucket for the run (throttle.ts): parallel transfers share the cap
    const bucket = this.opts.limitRateBytesPerSec ? sharedBucket(this.opts.limitRateBytesPerSec) : undefined;
    const limit = Math.min(fo.maxBytes ?? Infinity, fo.expectedSize ?? Infinity);
    /** Size cap, hash, progress for one chunk (a plain call per chunk: no async-generator layer per 16 KiB). */
    const account = (chunk: Buffer): void => {
      done += chunk.length;
      dog.count(chunk.length);
      if (done > limit) {
        throw done > (fo.maxBytes ?? Infinity) ? tooLarge(url, done, fo.maxBytes!) : badDigest(url, `more than ${fo.expectedSize} bytes`);
      }
      hash.update(chunk);
      try {
        fo.onProgress?.(done, total);
      } catch (err) {
        throw asWaptError(err); // the caller aborted: not a network error, never retried
      }
    };
    // Hand-rolled (pump) instead of pipeline(): on a network error every byte already
    // hashed must reach the .part (PartWriter.close writes what it holds), so a
    // later Range request continues exactly where the hash stopped. PartWriter,
    // not a WriteStream: coalesced writes instead of one per ≤16 KiB TLS chunk.
    let failure: unknown;
    let out: PartWriter | undefined;
    try {
      const writer = (out = await PartWriter.open(dest, append));
      await pump(res.body, (chunk) => {
        if (bucket && done + chunk.length <= limit) return bucket.take(chunk.length).then(() => (account(chunk), writer.write(chunk)));
        account(chunk);
        return writer.write(chunk);
      });
    } catch (err) {
      failure = err;
      res.body.on('error', () => undefined);
      res.body.destroy();
    }
    try {
      await out?.close();
    } catch (err) {
      failure ??= err;
    }
    if (failure !== undefined) {
      // local write failures (disk full, permissions) are not network errors
      const local = ['open', 'write', 'close'].includes((failure as NodeJS.ErrnoException).syscall ?? '');
      const e = dog.error ?? (local ? localError(failure, dest) : mapFetchError(failure, url));
      // a part that filled the disk is not kept: it would hold the space the next try needs
      if (e.code === 'ERR_OUT_OF_SPACE') await removePart(dest);
      if (e.code === 'HTTP_TOO_LARGE' || e.code === 'ERR_BAD_DIGEST') await removePart(dest);
      throw e; // network errors keep the part for the next attempt
    }
    const sha256 = hash.digest('hex');
    if (fo.expectedSize !== undefined && done !== fo.expectedSize) {
      await fail(badDigest(url, `size ${done}, ${fo.expectedSize} expected`));
    }
    if (fo.expectedSha256 !== undefined && sha256 !== fo.expectedSha256.toLowerCase()) {
      await fail(badDigest(url, `sha256 ${sha256}, ${fo.expectedSha256} expected`));
    }
    await commitPart(dest);
    return { status: 'downloaded', sha256, size: done, etag, lastModified, resumedFrom: start };
  }
}

/**
 * Feeds every chunk of `body` to `onChunk` from 'data' events (no async-iterator
 * promise per ≤16 KiB chunk); a returned promise pauses the body until it settles
 * (rate cap, write backpressure). Rejects with the first error of either side.
 */
function pump(body: Readable, onChunk: (chunk: Buffer) => Promise<void> | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let ended = false;
    let pending: Promise<void> | undefined;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      if (err === undefined) resolve();
      else reject(err);
    };
    body.on('data', (chunk: Buffer) => {
      if (settled) return;
      let wait: Promise<void> | undefined;
      try {
        wait = onChunk(chunk);
      } catch (err) {
        finish(err);
        return;
      }
      if (wait) {
        body.pause();
        pending = wait.then(() => void (settled || body.resume()), finish);
      }
    });
    // 'end' may come while the last chunk's promise is pending (it is scheduled even when paused)
    body.once('end', () => {
      ended = true;
      void (pending ?? Promise.resolve()).then(() => finish());
    });
    body.once('error', finish);
    // a body destroyed without 'end' or 'error' (it should not happen) is a broken transfer, kept for resume
    const closedEarly = () => Object.assign(new Error('the response body closed before its end'), { code: 'ECONNRESET' });
    body.once('close', () => ended || finish(closedEarly()));
    // The connection may have been cut during the awaits before pump() (part meta, hash of the
    // part, open): 'error'/'close' were emitted then, and nothing would ever settle this promise.
    if (body.errored) finish(body.errored);
    else if (body.destroyed && !body.readableEnded) finish(closedEarly());
  });
}

function contentRangeStart(v: string | undefined): number | null {
  const m = v ? /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(v.trim()) : null;
  return m ? Number(m[1]) : null;
}

function numberOrNull(v: string | undefined): number | null {
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

function statusError(status: number, url: string): WaptError {
  return new WaptError('HTTP_STATUS', `HTTP ${status} for ${redactUrl(url)}`, { detail: { status, url: redactUrl(url) } });
}

function tooLarge(url: string, size: number, max: number): WaptError {
  return new WaptError('HTTP_TOO_LARGE', `${redactUrl(url)} is larger than ${max} bytes (${size})`, { detail: { url: redactUrl(url), size, max } });
}

/** A write of the part failed: disk full names the directory; anything else as it came. */
function localError(err: unknown, dest: string): WaptError {
  const e = err as NodeJS.ErrnoException;
  if (e.code !== 'ENOSPC') return asWaptError(err);
  const dir = dirname(dest);
  return new WaptError('ERR_OUT_OF_SPACE', `no space left in ${dir} while downloading ${basename(dest)}`, {
    cause: err,
    detail: { path: dir, file: basename(dest), errno: e.code },
  });
}

function contentEncodingError(url: string, encoding: string): WaptError {
  return new WaptError(
    'HTTP_CONTENT_ENCODING',
    `${redactUrl(url)} was sent with Content-Encoding: ${encoding} although wapt-get asked for identity (Accept-Encoding: identity)`,
    { detail: { url: redactUrl(url), encoding } },
  );
}

function badDigest(url: string, why: string): WaptError {
  return new WaptError('ERR_BAD_DIGEST', `downloaded ${redactUrl(url)} does not match: ${why}`, { detail: { url: redactUrl(url), reason: why } });
}
