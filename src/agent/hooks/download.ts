// h.download() for update_package hooks: fetch the latest upstream installer into the
// package source directory, streamed through SHA-256 into a temp file beside the
// target, compared with the digest the hook gives, then renamed. On a mismatch the
// temp file is deleted and the directory is left exactly as it was. Runs inside the
// hook child: node builtins only.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { DownloadOptions, DownloadResult } from './api.js';
import { confine } from './paths.js';

const DEFAULT_MAX = 4 * 1024 ** 3;

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export async function downloadInto(packageDir: string, url: string, nameInPackage: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const u = new URL(url);
  if (u.protocol !== 'https:' && !opts.allowHttp)
    throw new Error(`${u.origin}: download() takes https:// URLs (allowHttp: true for a vendor without TLS, with a sha256)`);
  if (u.protocol !== 'https:' && !opts.sha256) throw new Error('a plain http:// download needs a sha256 to check');
  const dest = confine(packageDir, nameInPackage, 'download');
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.download-${process.pid}`);
  const res = await fetch(u, { redirect: 'follow', signal: AbortSignal.timeout(opts.timeoutMs ?? 30 * 60_000) });
  if (!res.ok || !res.body) throw new Error(`GET ${u.origin}${u.pathname}: HTTP ${res.status}`);
  const hash = createHash('sha256');
  let size = 0;
  const max = opts.maxBytes ?? DEFAULT_MAX;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > max) return cb(new Error(`${u.pathname}: larger than ${max} bytes`));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), meter, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    const sha256 = hash.digest('hex');
    if (opts.sha256 && opts.sha256.toLowerCase() !== sha256) {
      throw codedError('SOURCE_DIGEST_MISMATCH', `${u.pathname}: sha256 is ${sha256}, not the expected ${opts.sha256.toLowerCase()}; nothing was kept`);
    }
    await rename(tmp, dest);
    return { path: dest, sha256, size };
  } finally {
    await rm(tmp, { force: true });
  }
}
