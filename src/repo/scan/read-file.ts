// A small package's bytes in memory, with its size, mtime and inode checked
// before and after the read, so the digests describe exactly the file the
// listing saw. Synchronous on purpose: measured here, reading ahead on the
// libuv thread pool (five callbacks per file) cost more system and user time
// than it hid, for files in the page cache.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { WaptError, asWaptError } from '../../errors.js';

/**
 * Packages up to this size are read with one read call and parsed in memory
 * (package/zip-small.ts): the common case of an index of many packages. Larger
 * ones are streamed (PackageZip + hashFile): no payload is ever held whole.
 */
export const SMALL_PACKAGE_MAX = 4 * 1024 * 1024;

/** What the listing said about a file: the digests must describe exactly these bytes. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
}

/** The bytes and the stamp they match, or `large`: left to the streaming path. */
export type Whole = { data: Buffer; st: FileStamp } | { large: FileStamp };

export function sameFile(a: FileStamp, b: FileStamp | Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

export function changedWhileScanned(filename: string): WaptError {
  return new WaptError('IO_ERROR', 'the file changed while it was being scanned; run scanpackages again', { detail: { file: filename } });
}

/** The checks made once the file is open: a regular file, as the listing saw it. */
function stampBefore(filename: string, stamp: FileStamp | null, before: Stats): FileStamp {
  if (!before.isFile()) throw asWaptError(new Error('not a regular file'));
  const st = stamp ?? { size: before.size, mtimeMs: before.mtimeMs, ino: before.ino };
  if (!sameFile(st, before)) throw changedWhileScanned(filename);
  return st;
}

export function readWholeSync(path: string, filename: string, stamp: FileStamp | null): Whole {
  let fd: number;
  try {
    // O_NOFOLLOW: a *.wapt swapped for a symlink after the listing is not followed out of the repository.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw asWaptError(err);
  }
  try {
    const st = stampBefore(filename, stamp, fstatSync(fd));
    if (st.size > SMALL_PACKAGE_MAX) return { large: st };
    const data = Buffer.allocUnsafe(st.size);
    let got = 0;
    for (let n = -1; got < st.size && n !== 0; got += n) n = readSync(fd, data, got, st.size - got, got);
    // A file still being written (or rewritten in place) is caught here and picked up complete by the next scan.
    if (got !== st.size || !sameFile(st, fstatSync(fd))) throw changedWhileScanned(filename);
    return { data, st };
  } catch (err) {
    throw asWaptError(err);
  } finally {
    closeSync(fd);
  }
}
