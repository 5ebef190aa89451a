// Our private directories (outbox, action log): 0700, ours, never a symlink, never
// writable by another user — checked on every open, not only at creation.
import { promises as fs } from 'node:fs';
import { WaptError } from '../../errors.js';

export async function privateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await fs.lstat(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || st.isSymbolicLink())
    throw new WaptError('IO_ERROR', `${dir} is not a directory (a symlink?): move it aside`, { detail: { path: dir } });
  if (uid !== undefined && st.uid !== uid)
    throw new WaptError('IO_ERROR', `${dir} belongs to uid ${st.uid}, not to us: move it aside`, { detail: { path: dir } });
  if ((st.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
}
