// Offline bundles are plain tar files: `Packages` exactly as published plus the *.wapt
// files, all at the top level. Both directions stream (no file is held in memory), and
// extraction accepts only regular files with a plain, expected name: no paths, no
// links, no devices, no duplicates.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type tarTypes from 'tar-stream';
import { lazyRequire } from '../../lazy-require.js';
import { WaptError } from '../../errors.js';

// loaded on first use (src/lazy-require.ts)
const tarMod = lazyRequire<typeof tarTypes>('tar-stream');

export interface TarFile {
  /** Name inside the tar (one path segment). */
  name: string;
  /** File on disk to copy from. */
  path: string;
}

/** Names a bundle may hold (W-F1 index plus package files). */
export function isBundleMemberName(name: string): boolean {
  if (!/^[A-Za-z0-9._~+%-]+$/.test(name) || name.startsWith('.')) return false;
  return name === 'Packages' || /\.wapt$/i.test(name);
}

/** Writes `dest` through a temp file then rename; returns its size. */
export async function writeTar(dest: string, files: readonly TarFile[], mtime = new Date()): Promise<number> {
  const tmp = `${dest}.tmp-${process.pid}`;
  const pack = tarMod().pack();
  const written = pipeline(pack, createWriteStream(tmp));
  try {
    for (const f of files) {
      if (!isBundleMemberName(f.name)) throw new WaptError('INTERNAL', `not a bundle member name: ${f.name}`);
      const { size } = await stat(f.path);
      const entry = pack.entry({ name: f.name, size, mode: 0o644, mtime, type: 'file' });
      await pipeline(createReadStream(f.path), entry);
    }
    pack.finalize();
    await written;
    await rename(tmp, dest);
  } catch (err) {
    pack.destroy();
    await written.catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  return (await stat(dest)).size;
}

function unsafe(code: 'ZIP_UNSAFE_PATH' | 'ZIP_SYMLINK' | 'ZIP_DUPLICATE_ENTRY', tarPath: string, name: string, why: string): WaptError {
  return new WaptError(code, `${tarPath}: member ${JSON.stringify(name)} ${why}; the bundle is refused`, { detail: { file: tarPath, member: name } });
}

/**
 * Extracts every member of `tarPath` into the existing, empty `destDir`. Throws on the
 * first member that is not a regular file with a bundle name (traversal, links, devices,
 * unexpected names) or that appears twice; the caller removes `destDir` then.
 */
export async function extractBundleTar(tarPath: string, destDir: string): Promise<string[]> {
  const extract = tarMod().extract();
  const src = createReadStream(tarPath);
  src.on('error', (err) => extract.destroy(err));
  src.pipe(extract);
  const names: string[] = [];
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const name = h.name.replace(/^(\.\/)+/, '');
      if (h.type === 'directory' && (name === '' || name === '.' || name === './')) {
        entry.resume();
        continue;
      }
      if (h.type === 'symlink' || h.type === 'link') throw unsafe('ZIP_SYMLINK', tarPath, h.name, `is a ${h.type} (to ${JSON.stringify(h.linkname)})`);
      if (h.type !== 'file' && h.type !== 'contiguous-file') throw unsafe('ZIP_UNSAFE_PATH', tarPath, h.name, `is a ${h.type}, not a regular file`);
      if (!isBundleMemberName(name)) {
        throw unsafe('ZIP_UNSAFE_PATH', tarPath, h.name, 'is not a top-level Packages or *.wapt file');
      }
      if (names.includes(name)) throw unsafe('ZIP_DUPLICATE_ENTRY', tarPath, h.name, 'appears twice');
      names.push(name);
      // 'wx': never follow or replace anything already there.
      await pipeline(entry, createWriteStream(join(destDir, name), { flags: 'wx', mode: 0o644 }));
    }
  } catch (err) {
    src.destroy();
    if (err instanceof WaptError) throw err;
    throw new WaptError('ZIP_INVALID', `${tarPath}: not a readable tar bundle: ${(err as Error).message}`, { cause: err, detail: { file: tarPath } });
  }
  return names;
}
