// Streaming file digests. Large reads (1 MiB) keep the per-chunk overhead of
// the stream machinery negligible next to the hash itself.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { asWaptError } from '../errors.js';

export type HashAlgo = 'sha256' | 'md5';

/** Read size for every hashing stream in this package. */
export const HASH_READ_SIZE = 1024 * 1024;

/** Lowercase hex digests of the file at `path`, one read pass for all algorithms. */
export async function hashFile(path: string, algos: HashAlgo[]): Promise<Record<string, string>> {
  const hashes = algos.map((algo) => createHash(algo));
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: HASH_READ_SIZE })) {
      for (const h of hashes) h.update(chunk as Buffer);
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
