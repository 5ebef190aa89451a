// Replacing a file so that a reader, or a crash, sees either the old or the new bytes.
// One implementation for every room (DB, keys, server records), like errors.ts.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Temp files are `<target>.tmp-<pid>-<hex>`: the pid lets a later run sweep a crashed writer's leftovers. */
export const TEMP_MARK = '.tmp-';

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

export interface AtomicWriteOptions {
  /** Mode of a new file; an existing target keeps its own. Default 0644. */
  defaultMode?: number;
  /** Always exactly this mode, whatever the umask or an existing target's mode (secrets). */
  mode?: number;
  /** The caller made the directory (a busy store writing thousands of files): skip the mkdir. */
  dirExists?: boolean;
}

/**
 * Replaces `target` with `data`: temp file in the same directory (created with the final
 * mode, so a secret is never readable by others, even briefly), write, fsync, rename,
 * fsync the directory.
 */
export async function atomicWriteFile(target: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(target);
  // A private file (no group/other bits) gets private parents when we create them.
  const privateFile = opts.mode !== undefined && (opts.mode & 0o077) === 0;
  if (!opts.dirExists) await fs.mkdir(dir, { recursive: true, ...(privateFile ? { mode: 0o700 } : {}) });
  const mode =
    opts.mode ??
    (await fs.stat(target).then(
      (s) => s.mode & 0o777,
      () => opts.defaultMode ?? 0o644,
    ));
  const tmp = tempName(target);
  // 'wx' is O_CREAT|O_EXCL: never opens an existing file or follows a planted symlink;
  // the rename then replaces the target name itself, never what a link there points to.
  const fh = await fs.open(tmp, 'wx', mode);
  try {
    try {
      await fh.writeFile(data);
      if (opts.mode !== undefined) await fh.chmod(opts.mode); // the umask may have narrowed it
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
