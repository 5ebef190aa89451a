// Directory listing for the scanner: one readdir, then one stat per *.wapt (the
// only per-file syscall for an unchanged file). Synchronous stats in slices:
// measured 3-4x faster than promise stats (no thread-pool round trip per file),
// and yielding between slices keeps a server's event loop responsive.
import { statSync, type Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export type ListedFile = { name: string; st: Stats } | { name: string; error: unknown };

const STAT_SLICE = 1000;

/** Every `*.wapt` directly in `dir` (W-F2: not recursive), sorted by name. */
export async function listPackageFiles(dir: string): Promise<ListedFile[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => !d.isDirectory() && d.name.endsWith('.wapt'))
    .map((d) => d.name)
    .sort();
  const out: ListedFile[] = new Array(names.length);
  for (let i = 0; i < names.length; i++) {
    if (i > 0 && i % STAT_SLICE === 0) await new Promise((r) => setImmediate(r));
    const name = names[i]!;
    try {
      const st = statSync(join(dir, name));
      out[i] = st.isFile() ? { name, st } : { name, error: new Error('not a regular file') };
    } catch (error) {
      out[i] = { name, error };
    }
  }
  return out;
}

/** Runs `fn` over `items` with at most `limit` in flight; after the first rejection no new item starts. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      try {
        await fn(items[next++]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
