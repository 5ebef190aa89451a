// Extraction of an opened (already validated) package into a fresh directory.
// All or nothing: on any failure the directory is left empty.

import { constants as C, promises as fsp } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { WaptError, asWaptError } from '../errors.js';
import { readBuffers } from './zip-member-stream.js';
import { UNVERIFIED_MEMBERS } from './manifest.js';
import type { PackageZip } from './zip-reader.js';

export interface ExtractOptions {
  /** Refuse (ERR_OUT_OF_SPACE) when the extracted members would exceed this many bytes. */
  maxTotalBytes?: number;
  /** Members for which this returns true are skipped. */
  exclude?: (name: string) => boolean;
  onEntry?: (name: string) => void;
}

/**
 * The absolute target of member `name` under `root`, or ZIP_UNSAFE_PATH if it
 * would land outside (belt and braces: checkMemberName already refused it at open).
 */
export function resolveInside(root: string, name: string): string {
  const target = resolve(root, name);
  if (target === root || !target.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new WaptError('ZIP_UNSAFE_PATH', `member ${JSON.stringify(name)} would be written outside ${root}`, {
      detail: { member: name, root },
    });
  }
  return target;
}

async function prepareDest(destDir: string): Promise<string> {
  await fsp.mkdir(destDir, { recursive: true });
  const root = await fsp.realpath(destDir);
  const present = await fsp.readdir(root);
  if (present.length > 0) {
    throw new WaptError('IO_ERROR', `extraction needs an empty directory; ${destDir} holds ${present.length} entries`, {
      detail: { path: destDir },
    });
  }
  return root;
}

async function emptyDir(root: string): Promise<void> {
  for (const name of await fsp.readdir(root)) await fsp.rm(resolve(root, name), { recursive: true, force: true });
}

/** FileHandle.write may write less than asked (rare on regular files, but allowed). */
async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  for (let off = 0; off < chunk.length;) off += (await handle.write(chunk, off, chunk.length - off)).bytesWritten;
}

function failure(err: unknown): WaptError {
  if (err instanceof WaptError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new WaptError('ERR_OUT_OF_SPACE', (err as Error).message, { cause: err });
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return asWaptError(err);
  return new WaptError('ERR_UNZIP', `extraction failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** Extracts every member (central-directory order) below destDir, which must not exist or be empty. */
export async function extractPackage(zip: PackageZip, destDir: string, opts: ExtractOptions = {}): Promise<{ files: number; bytes: number }> {
  const root = await prepareDest(destDir).catch((err: unknown) => {
    throw failure(err);
  });
  // W-A2: the legacy members no signature covers are never written (manifest.ts).
  const chosen = zip.members.filter((m) => !UNVERIFIED_MEMBERS.has(m.name) && !opts.exclude?.(m.name));
  // Declared sizes are exact: every stream below fails (ZIP_BOMB) past its declared size.
  const declared = chosen.reduce((sum, m) => sum + m.uncompressedSize, 0);
  if (opts.maxTotalBytes !== undefined && declared > opts.maxTotalBytes) {
    throw new WaptError('ERR_OUT_OF_SPACE', `${zip.path} needs ${declared} bytes, more than the ${opts.maxTotalBytes} allowed`, {
      detail: { file: zip.path, needed: declared, allowed: opts.maxTotalBytes },
    });
  }
  let files = 0;
  let bytes = 0;
  // Reused for every stored member: each chunk is written before its buffer is read into again.
  const buffers = readBuffers();
  try {
    for (const m of chosen) {
      const target = resolveInside(root, m.name);
      opts.onEntry?.(m.name);
      if (m.isDirectory) {
        await fsp.mkdir(target, { recursive: true });
        continue;
      }
      await fsp.mkdir(dirname(target), { recursive: true });
      // O_EXCL: never reuse (or follow a symlink at) an existing path; O_NOFOLLOW as well where it exists.
      const flags = C.O_WRONLY | C.O_CREAT | C.O_EXCL | (C.O_NOFOLLOW ?? 0);
      const handle = await fsp.open(target, flags, 0o644);
      try {
        await zip.forEachChunk(m.name, (chunk) => writeAll(handle, chunk), { crc: true, buffers });
      } finally {
        await handle.close();
      }
      files += 1;
      bytes += m.uncompressedSize;
    }
  } catch (err) {
    await emptyDir(root).catch(() => undefined);
    throw failure(err);
  }
  return { files, bytes };
}
