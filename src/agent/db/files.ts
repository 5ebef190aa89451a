// File-level safety for the DB: atomic replace, moving a bad file aside without ever
// overwriting anything, and sweeping temp files a crashed run left behind.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TEMP_MARK } from '../../atomic-file.js';
import { isPidAlive } from '../lock.js';

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
      const taken = await fs.lstat(candidate).then(
        () => true,
        () => false,
      );
      if (taken) continue;
      await fs.rename(file, candidate);
      return candidate;
    }
  }
  throw new Error(`cannot find a free name to move ${file} aside`);
}
