// A real, small tmpfs for the disk-full cases. CI runs as root: a mount that fails is a
// broken test setup, never a reason to fall back to a stand-in.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, truncateSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface Tmpfs {
  dir: string;
  /** Writes zeros into `<dir>/filler` until the filesystem is full, then gives `leave` bytes back. */
  fill(leave?: number): number;
  /** Removes the filler: the space is back. */
  unfill(): void;
  umount(): void;
}

export function mountTmpfs(dir: string, size: string): Tmpfs {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`cannot mount a ${size} tmpfs on ${dir} (these tests need root and a real tmpfs): ${(err as Error).message}`);
  }
  const filler = path.join(dir, 'filler');
  return {
    dir,
    fill(leave = 0) {
      const fd = openSync(filler, 'a');
      const block = Buffer.alloc(64 * 1024);
      let n = 0;
      try {
        for (;;) n += writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        // the last partial block: fill to the very last byte
        for (let b = 4096; b >= 1; b = Math.floor(b / 2)) {
          try {
            for (;;) n += writeSync(fd, block, 0, b);
          } catch {
            /* next smaller size */
          }
        }
      } finally {
        closeSync(fd);
      }
      if (leave > 0) truncateSync(filler, Math.max(0, n - leave));
      return n;
    },
    unfill() {
      rmSync(filler, { force: true });
    },
    umount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    },
  };
}
