// Files the scanner keeps in a repository directory that uploaders may write to
// (issue 8 §2): never opened through a symlink, created only exclusively under a
// fresh random name and renamed into place, and read back only when they are
// plain files we own (a file another user put there is not our cache).
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** Why an open file is not ours to trust, or null. */
async function notOurs(fh: FileHandle): Promise<string | null> {
  const st = await fh.stat();
  if (!st.isFile()) return 'not a regular file';
  if (st.nlink !== 1) return 'has other hard links';
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : null;
  if (uid !== null && st.uid !== uid) return `owned by uid ${st.uid}, not by this user`;
  return null;
}

/** Opens an existing file of ours without following a symlink; throws (code ELOOP / EPERM-like) otherwise. */
export async function openOwnFile(path: string, flags: number): Promise<FileHandle> {
  const fh = await open(path, flags | NOFOLLOW);
  const why = await notOurs(fh).catch((err: Error) => err.message);
  if (why) {
    await fh.close();
    throw Object.assign(new Error(`${path}: ${why}`), { code: 'ENOTOURS' });
  }
  return fh;
}

export async function readOwnFile(path: string): Promise<Buffer> {
  const fh = await openOwnFile(path, constants.O_RDONLY);
  try {
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** A new file in `dir` under a random name, created exclusively (O_EXCL: a planted name or symlink fails). */
export async function createPrivateTemp(dir: string, stem: string, mode = 0o644): Promise<{ path: string; fh: FileHandle }> {
  const path = join(dir, `${stem}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, mode);
  return { path, fh };
}

/**
 * Writes `fill`'s output to a fresh temp file in `dir`, fsyncs, and renames it onto
 * `dest` (rename replaces a symlink planted at `dest`, never its target).
 */
export async function replaceFile(
  dir: string,
  dest: string,
  fill: (fh: FileHandle) => Promise<void>,
  opts: { sync?: boolean; mode?: number } = {},
): Promise<void> {
  const { path, fh } = await createPrivateTemp(dir, basename(dest), opts.mode);
  try {
    try {
      await fill(fh);
      if (opts.sync) await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(path, dest);
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
}
