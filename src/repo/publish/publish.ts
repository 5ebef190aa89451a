// Publishing a built package into a repository directory: the one place that decides
// what happens when `name_version.wapt` is already there. The same bytes: nothing to
// do. Other bytes: refused (clients may already hold the published file under that
// name and digest, as apt repositories and `choco push` refuse), unless forced.
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { WaptError } from '../../errors.js';
import { sha256File } from '../../package/index.js';

export type PublishStatus = 'published' | 'unchanged' | 'replaced';

export interface PublishResult {
  path: string;
  status: PublishStatus;
  sha256: string;
}

/** PACKAGE_EXISTS unless `dest` is absent, holds the same bytes, or force is set. */
export async function checkPublishTarget(dest: string, sha256: string, force: boolean): Promise<PublishStatus> {
  const present = await stat(dest).catch(() => null);
  if (!present) return 'published';
  if (!present.isFile()) throw new WaptError('IO_ERROR', `${dest} exists and is not a file`, { detail: { path: dest } });
  const existing = await sha256File(dest);
  if (existing === sha256) return 'unchanged';
  if (!force) {
    throw new WaptError(
      'PACKAGE_EXISTS',
      `${basename(dest)} is already published in ${join(dest, '..')} with other content (sha256 ${existing.slice(0, 16)}…)`,
      {
        detail: { path: dest, published_sha256: existing, new_sha256: sha256 },
      },
    );
  }
  return 'replaced';
}

/**
 * Copies `file` into `dir` under its own name: a temp file beside the target, then a
 * rename, so a web server never serves half a package.
 */
export async function publishToDir(file: string, dir: string, opts: { force: boolean; dryRun?: boolean }): Promise<PublishResult> {
  const sha256 = await sha256File(file);
  if (!opts.dryRun) await mkdir(dir, { recursive: true });
  const dest = join(dir, basename(file));
  const status = await checkPublishTarget(dest, sha256, opts.force);
  if (status === 'unchanged' || opts.dryRun) return { path: dest, status, sha256 };
  const tmp = join(dir, `.${basename(file)}.${process.pid}.tmp`);
  try {
    // O_EXCL: never write through a planted file or symlink at the temp name; written through this handle only.
    const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      for await (const chunk of createReadStream(file)) {
        const buf = chunk as Buffer;
        for (let off = 0; off < buf.length;) off += (await handle.write(buf, off, buf.length - off)).bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, dest);
  } finally {
    await rm(tmp, { force: true });
  }
  return { path: dest, status, sha256 };
}
