// Streaming file digests. Large reads (1 MiB) into two reused buffers, the next
// read in flight while the current chunk is hashed: no allocation (and GC) per chunk.

import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { asWaptError } from '../errors.js';

export type HashAlgo = 'sha256' | 'md5';

/** Read size for every hashing stream in this package. */
export const HASH_READ_SIZE = 1024 * 1024;

/** Lowercase hex digests of the file at `path`, one read pass for all algorithms. */
export async function hashFile(path: string, algos: HashAlgo[]): Promise<Record<string, string>> {
  const hashes = algos.map((algo) => createHash(algo));
  try {
    const fh = await open(path, 'r');
    try {
      const size = Math.min(HASH_READ_SIZE, Math.max(1, (await fh.stat()).size));
      const bufs = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
      let pos = 0;
      // Until EOF, not the stat size: a file still growing is hashed as far as it goes, like a read stream.
      for (let i = 0, pending = fh.read(bufs[0]!, 0, size, 0); ;) {
        const { bytesRead, buffer } = await pending;
        if (bytesRead === 0) break;
        pos += bytesRead;
        pending = fh.read(bufs[++i & 1]!, 0, size, pos); // hashing below is synchronous: no window for an unhandled rejection
        const chunk = buffer.subarray(0, bytesRead);
        for (const h of hashes) h.update(chunk);
      }
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw asWaptError(err);
  }
  const out: Record<string, string> = {};
  algos.forEach((algo, i) => {
    out[algo] = hashes[i]!.digest('hex');
  });
  return out;
}

export async function sha256File(path: string): Promise<string> {
  return (await hashFile(path, ['sha256'])).sha256!;
}
