// Room for the last DB write of an install. A hook may fill the disk that holds the DB
// (the same filesystem as the target, often): the write that records what the hook did
// would then fail and leave the row RUNNING although the run finished. So before any
// package code runs, a file as large as that write is put beside the DB; when the write
// fails for lack of space, the file is deleted and the write tried once more.
import { randomBytes, randomFillSync } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import { WaptError, isWaptError } from '../../errors.js';
import { TEMP_MARK } from '../../atomic-file.js';
import type { WaptDb } from '../db/index.js';

/** Growth of the DB by one install: its output (capped at 1 MiB by the runner) and a few rows. */
const GROWTH = 1024 * 1024 + 64 * 1024;
const BLOCK = 1024 * 1024;

export interface DbReserve {
  /** persist(); on ENOSPC the reserve is released and the write tried again (once). */
  persist(): Promise<void>;
  release(): Promise<void>;
}

function noRoom(db: WaptDb, err: unknown): WaptError {
  const e = err as NodeJS.ErrnoException;
  return new WaptError('DB_ERROR', `cannot reserve room for the DB beside ${db.path}: ${e.message}`, {
    cause: err,
    detail: { path: db.path, errno: e.code },
  });
}

function outOfSpace(err: unknown): boolean {
  return isWaptError(err, 'DB_ERROR') && err.detail.errno === 'ENOSPC';
}

/**
 * Writes the reserve (DB_ERROR when even that does not fit: nothing has run yet). Random
 * bytes, not zeros: a compressing filesystem would store zeros in no space at all. The name
 * is a temp name of the DB (`<db>.tmp-<pid>-<hex>`), so openDb sweeps it after a kill -9.
 */
export async function reserveDbSpace(db: WaptDb): Promise<DbReserve> {
  const size = ((await stat(db.path).catch(() => null))?.size ?? 0) + GROWTH;
  const file = `${db.path}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(file, 'wx', 0o600);
    try {
      const block = randomFillSync(Buffer.allocUnsafe(Math.min(BLOCK, size)));
      for (let done = 0; done < size;) done += (await fh.write(block, 0, Math.min(block.length, size - done))).bytesWritten;
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await rm(file, { force: true });
    throw noRoom(db, err);
  }
  let held = true;
  const release = async () => {
    if (!held) return;
    held = false;
    await rm(file, { force: true });
  };
  return {
    release,
    async persist() {
      try {
        await db.persist();
      } catch (err) {
        if (!held || !outOfSpace(err)) throw err;
        await release();
        await db.persist();
      }
    },
  };
}
