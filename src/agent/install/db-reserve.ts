// Room for the last DB write of an install. A hook may fill the disk that holds the DB
// (the same filesystem as the target, often): the write that records what the hook did
// would then fail and leave the row RUNNING although the run finished. So before any
// package code runs, a file as large as that write is kept beside the DB; when the write
// fails for lack of space, the file is deleted and the write tried once more.
import { randomFillSync } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { WaptError, isWaptError } from '../../errors.js';
import type { WaptDb } from '../db/index.js';

/** Growth of the DB by one install: its output (capped at 1 MiB by the runner) and a few rows. */
const GROWTH = 1024 * 1024 + 64 * 1024;
const BLOCK = 1024 * 1024;

export interface DbReserve {
  /** persist(); on ENOSPC the reserve is deleted and the write tried again (once). */
  persist(): Promise<void>;
}

/** Beside the DB, private like it; not a temp name, so openDb's sweep leaves it. */
export const RESERVE_SUFFIX = '.reserve';

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
 * Makes sure the reserve exists (DB_ERROR when even that does not fit: nothing has run yet).
 * It is kept between runs at `<db>.reserve` and only grown when the DB has grown, so an
 * install writes it once per machine, not once per install (issue 12 §3: it was most of the
 * bytes an install wrote). Random bytes, not zeros: a compressing filesystem would store
 * zeros in no space at all. Opened with O_NOFOLLOW and checked to be our own regular file:
 * a link planted in its place is refused, never written through.
 */
export async function reserveDbSpace(db: WaptDb): Promise<DbReserve> {
  const size = ((await stat(db.path).catch(() => null))?.size ?? 0) + GROWTH;
  const file = `${db.path}${RESERVE_SUFFIX}`;
  let growing = false;
  try {
    const fh = await open(file, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      const st = await fh.stat();
      if (!st.isFile() || st.nlink !== 1) throw Object.assign(new Error(`${file} is not a private regular file`), { code: 'ENOTREG' });
      if (st.size < size) {
        growing = true;
        const block = randomFillSync(Buffer.allocUnsafe(Math.min(BLOCK, size - st.size)));
        for (let done = st.size; done < size;) done += (await fh.write(block, 0, Math.min(block.length, size - done), done)).bytesWritten;
        await fh.sync();
      }
    } finally {
      await fh.close();
    }
  } catch (err) {
    // a partly grown reserve is worth nothing when the disk is already this full
    if (growing) await rm(file, { force: true });
    throw noRoom(db, err);
  }
  let held = true;
  return {
    async persist() {
      try {
        await db.persist();
      } catch (err) {
        if (!held || !outOfSpace(err)) throw err;
        held = false;
        await rm(file, { force: true }); // the next run with room makes it again
        await db.persist();
      }
    },
  };
}
