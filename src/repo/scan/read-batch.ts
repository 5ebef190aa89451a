// One package read for the index, as both the main thread and the worker
// threads do it (pool.ts, worker.ts): read + hash + parse, then, with a trust
// store, the control-signature check whose chain half the main thread finishes
// (signature.ts). A failure is a result, not a throw: the scan decides to skip or
// to stop (strict) in its own order.
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { asWaptError, type WaptError } from '../../errors.js';
import type { CachedPackage } from './cache.js';
import type { FileStamp } from './read-file.js';
import { readPackageForIndex, type CertificateMemo } from './read-package.js';
import { verifySignatureOnly } from './signature.js';

const YIELD_EVERY = 32;

export interface BatchItem {
  name: string;
  /** From the listing; null when the listing did not stat it (no cache entry to compare with): the reader does. */
  stamp: FileStamp | null;
}

export interface FreshRead {
  name: string;
  entry: CachedPackage;
  /** Fingerprint of the certificate whose signature over the control verified; null when not checked or failed. */
  signedBy: string | null;
  signatureError: WaptError | null;
}

export type PackageRead = FreshRead | { name: string; error: WaptError };

export async function readOne(dir: string, item: BatchItem, memo: CertificateMemo, checkSignatures: boolean): Promise<PackageRead> {
  try {
    const read = await readPackageForIndex(join(dir, item.name), item.name, item.stamp, memo);
    let signedBy: string | null = null;
    let signatureError: WaptError | null = null;
    if (checkSignatures) {
      try {
        signedBy = verifySignatureOnly(read.fields, read.certificates);
      } catch (err) {
        signatureError = asWaptError(err);
      }
    }
    return { name: item.name, entry: read.entry, signedBy, signatureError };
  } catch (err) {
    return { name: item.name, error: asWaptError(err) };
  }
}

/** readOne over `items`, in order; small packages are read synchronously, so the event loop gets a turn now and then. */
export async function readInOrder(dir: string, items: readonly BatchItem[], memo: CertificateMemo, checkSignatures: boolean): Promise<PackageRead[]> {
  const out: PackageRead[] = [];
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % YIELD_EVERY === 0) await nextTurn();
    out.push(await readOne(dir, items[i]!, memo, checkSignatures));
  }
  return out;
}
