// Where an index comes from: an HTTP(S) repository (conditional GET, W-F3) or a
// directory (a `file:` repository or an unpacked offline bundle). Either way the
// caller gets a local Packages file to read, and the bytes are checked the same way.
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WaptError } from '../../errors.js';
import type { HttpClient } from '../../repo/index.js';
import { PACKAGES_MAX_BYTES } from '../../repo/index.js';
import type { RepoRow } from '../db/types.js';

export type IndexSource = { kind: 'http'; url: string; client: HttpClient } | { kind: 'dir'; dir: string };

export interface FetchedIndex {
  status: 'downloaded' | 'not-modified';
  /** The Packages file to read (absent when not modified). */
  path?: string;
  etag: string | null;
  lastModified: string | null;
  /** Removes the temporary copy, if one was made. */
  cleanup(): Promise<void>;
}

/** `file:///srv/bundle` → a directory; any other URL → HTTP. */
export function sourceForUrl(url: string, client: () => HttpClient): IndexSource {
  if (url.startsWith('file:')) return { kind: 'dir', dir: fileURLToPath(url) };
  return { kind: 'http', url, client: client() };
}

/** Earlier versions named the temp file `<repo>.Packages.<pid>`: such parts can never be continued. */
async function removeLegacyParts(tmpPath: string): Promise<void> {
  const prefix = `${basename(tmpPath)}.`;
  const names = await readdir(dirname(tmpPath)).catch(() => [] as string[]);
  for (const n of names) {
    if (n.startsWith(prefix) && /^\d+\.part(\.json)?$/.test(n.slice(prefix.length))) await rm(join(dirname(tmpPath), n), { force: true });
  }
}

/** The URL of a member of the repository (one path segment, escaped). */
export function memberUrl(base: string, name: string): string {
  return `${base.replace(/\/+$/, '')}/${encodeURIComponent(name)}`;
}

/**
 * W-F3: downloads `Packages` into `tmpPath`, conditionally when this client already holds
 * the index from the same URL (an unchanged index costs a 304, no body). `tmpPath` is one
 * name per repository (the run holds the lock): a transfer that failed leaves one
 * `.part`, continued by the next run (If-Range keeps it to the same index), never a pile.
 */
export async function fetchIndex(src: IndexSource, tmpPath: string, previous: RepoRow | undefined, url: string): Promise<FetchedIndex> {
  const none = async () => undefined;
  if (src.kind === 'dir') {
    return { status: 'downloaded', path: join(src.dir, 'Packages'), etag: null, lastModified: null, cleanup: none };
  }
  const known = previous && previous.url === url && previous.last_update !== null;
  const conditional =
    known && (previous.etag || previous.last_modified) ? { etag: previous.etag ?? undefined, lastModified: previous.last_modified ?? undefined } : undefined;
  const cleanup = () => rm(tmpPath, { force: true });
  try {
    await removeLegacyParts(tmpPath);
    const res = await src.client.fetchToFile(memberUrl(src.url, 'Packages'), tmpPath, { conditional, resume: true, maxBytes: PACKAGES_MAX_BYTES });
    return {
      status: res.status,
      path: res.status === 'downloaded' ? tmpPath : undefined,
      etag: res.etag ?? null,
      lastModified: res.lastModified ?? null,
      cleanup,
    };
  } catch (err) {
    await cleanup();
    if (err instanceof WaptError && err.code === 'HTTP_STATUS') {
      throw new WaptError('HTTP_STATUS', `${err.message}: the repository index could not be fetched`, { cause: err, detail: err.detail });
    }
    throw err;
  }
}
