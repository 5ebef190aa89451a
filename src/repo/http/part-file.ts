// The `.part` file of a download and its `.part.json` sidecar, which records
// the validator (ETag / Last-Modified) the bytes came with, so a later
// `Range` + `If-Range` request can only ever append bytes of the same entity.
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
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
