// Private local state (the DB and its side files, the cache, the host key, the lock):
// directories 0700 and files 0600, owned by us or root, never reached through a link
// another user planted. Created that way, and tightened (with one warning line) when
// found wider, e.g. a dbdir made 0755 by an older wapt-get. One implementation for
// every room, like atomic-file.ts. POSIX only: Windows protects dbdir with its ACLs.
import { promises as fs, type Stats } from 'node:fs';
import { WaptError } from './errors.js';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

export interface PrivateStateOptions {
  /** Receives the one-line warning when a mode is tightened or cannot be. */
  onWarning?: (msg: string) => void;
}

const posix = process.platform !== 'win32';
const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

/** Root may own our state (a non-root run reading root's dbdir); anyone else could rewrite it. */
function ownedByUsOrRoot(st: Stats): boolean {
  return st.uid === 0 || st.uid === process.getuid!();
}

function unsafe(path: string, why: string): WaptError {
  return new WaptError('STATE_UNSAFE', `${path} ${why}; wapt-get keeps private state there and will not use it`, {
    detail: { path, reason: why },
  });
}

/** lstat, refusing a symlink another user owns, then the stat of what it names. */
async function statOwned(path: string): Promise<Stats | undefined> {
  let st: Stats;
  try {
    st = await fs.lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined; // nothing there: its writer reports why
    throw err;
  }
  if (st.isSymbolicLink()) {
    if (!ownedByUsOrRoot(st)) throw unsafe(path, `is a symbolic link owned by uid ${st.uid}`);
    st = await fs.stat(path); // an admin's link (dbdir on another disk) is followed
  }
  if (!ownedByUsOrRoot(st)) throw unsafe(path, `belongs to uid ${st.uid}`);
  return st;
}

async function tighten(path: string, st: Stats, mode: number, opts: PrivateStateOptions): Promise<void> {
  if ((st.mode & 0o777 & ~mode) === 0) return;
  try {
    await fs.chmod(path, mode);
    opts.onWarning?.(`${path} was mode ${octal(st.mode)}, readable by other users; tightened to ${octal(mode)}`);
  } catch (err) {
    // Not ours to change (root's dbdir read by a user), or a file system without modes: say so, go on.
    if (!['EPERM', 'EACCES', 'EROFS', 'ENOTSUP'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    opts.onWarning?.(`${path} is mode ${octal(st.mode)}, readable by other users, and cannot be tightened to ${octal(mode)} here: run wapt-get as its owner`);
  }
}

/**
 * `dir` (and missing parents) created 0700; an existing one must be a directory owned
 * by us or root (STATE_UNSAFE otherwise) and loses its group and other bits.
 */
export async function ensurePrivateDir(dir: string, opts: PrivateStateOptions = {}): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (!posix) return;
  const st = await statOwned(dir);
  if (!st) throw unsafe(dir, 'vanished right after it was created');
  if (!st.isDirectory()) throw unsafe(dir, 'is not a directory');
  await tighten(dir, st, PRIVATE_DIR_MODE, opts);
}

/** An existing private file loses its group and other bits; a missing one is left to its writer. */
export async function tightenPrivateFile(file: string, opts: PrivateStateOptions = {}): Promise<void> {
  if (!posix) return;
  const st = await statOwned(file);
  if (!st) return;
  if (!st.isFile()) throw unsafe(file, 'is not a regular file');
  await tighten(file, st, PRIVATE_FILE_MODE, opts);
}
