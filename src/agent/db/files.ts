// File-level safety for the DB: atomic replace, moving a bad file aside without ever
// overwriting anything, and sweeping temp files a crashed run left behind.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isPidAlive } from '../lock.js';

const TEMP_MARK = '.tmp-';

function tempName(target: string): string {
  return `${target}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** fsync a directory so a rename in it survives power loss; not supported everywhere. */
async function syncDir(dir: string): Promise<void> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Windows cannot open directories; some filesystems refuse fsync on them.
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EACCES', 'ENOTSUP'].includes(code ?? '')) throw err;
  } finally {
    await fh?.close();
  }
}

/**
 * Replaces `target` with `data` so a reader (or a crash) sees either the old or the new
 * bytes: temp file in the same directory, write, fsync, rename, fsync the directory.
 * Keeps the mode of an existing target.
 */
export async function atomicWriteFile(target: string, data: Uint8Array, defaultMode = 0o644): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const mode = await fs.stat(target).then((s) => s.mode & 0o777, () => defaultMode);
  const tmp = tempName(target);
  const fh = await fs.open(tmp, 'wx', mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

/**
 * Temp files named `<target>.tmp-<pid>-<hex>` whose writer is gone are leftovers of a
 * crash between write and rename: the target still holds the previous good state.
 * Returns the paths removed. A live writer's temp file is left alone.
 */
export async function sweepStaleTemps(target: string): Promise<string[]> {
  const dir = path.dirname(target);
  const prefix = path.basename(target) + TEMP_MARK;
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && isPidAlive(pid)) continue;
    await fs.rm(path.join(dir, name), { force: true });
    removed.push(path.join(dir, name));
  }
  return removed;
}

/** `20240131T235959.123Z`: sortable and valid in file names everywhere. */
function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '');
}

/**
 * Moves `file` to `<file>.corrupt-<timestamp>` (adding -1, -2… if taken) and returns
 * the new path. A hard link + unlink never replaces an existing file; rename is the
 * fallback on filesystems without hard links, after checking the name is free.
 */
export async function moveAside(file: string, now = new Date()): Promise<string> {
  const base = `${file}.corrupt-${stamp(now)}`;
  for (let i = 0; i < 1000; i++) {
    const candidate = i === 0 ? base : `${base}-${i}`;
    try {
      await fs.link(file, candidate);
      await fs.unlink(file);
      return candidate;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw err;
      const taken = await fs.lstat(candidate).then(() => true, () => false);
      if (taken) continue;
      await fs.rename(file, candidate);
      return candidate;
    }
  }
  throw new Error(`cannot find a free name to move ${file} aside`);
}
