// One sql.js DB file on disk: read and check it at open (a damaged file is moved aside,
// never overwritten or deleted), write it back atomically with its digest. The agent
// keeps two such files, the state and the index (docs/local-state.md); both go through
// here, so both get the same checks and the same crash safety.
import { promises as fs } from 'node:fs';
import type { Database, SqlJsStatic } from 'sql.js';
import { WaptError } from '../../errors.js';
import { atomicWriteFile } from '../../atomic-file.js';
import { PRIVATE_FILE_MODE, tightenPrivateFile } from '../../private-state.js';
import { digestPathOf, readDigest, removeDigest, sha256Hex, writeDigest } from './digest.js';
import { moveAside, sweepStaleTemps } from './files.js';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * New DBs use 8 KiB pages: an index row (~2.6 KB, mostly its control text) fits 3 to a
 * page instead of 1 per 4 KiB page, so the file, its export and its read are ~1/3 smaller.
 * Must be set before the first table exists; existing DBs keep their page size.
 */
const NEW_DB_PAGE_SIZE = 8192;

export interface LoadedFile {
  db: Database;
  /** No usable file was there: an empty DB (written at the first persist). */
  fresh: boolean;
  /** The file was corrupt and moved aside (the DB is then fresh). */
  corrupt?: { reason: string; movedTo: string };
}

/**
 * Per-connection settings. The DB lives in sql.js's in-memory file system and reaches
 * the disk only through writeDbFile (export, temp file, fsync, atomic rename), so the
 * rollback journal never protects the on-disk file: a crash mid-transaction loses the
 * in-memory DB and leaves the last persisted file intact. Keeping the journal in memory
 * (MEMORY, not OFF: ROLLBACK must still work) spares copying every changed page into a
 * second in-memory file. export() reopens the connection, so this runs after it too.
 */
export function configure(db: Database): void {
  db.exec('PRAGMA journal_mode = MEMORY');
}

/**
 * Why `bytes` cannot be used as our DB, or undefined if it can (db is then returned open).
 * `trusted`: the bytes are exactly what was last written (digest.ts), so the full
 * integrity check is skipped; the header is checked either way.
 */
function check(SQL: SqlJsStatic, bytes: Uint8Array, trusted: boolean): { db?: Database; problem?: string } {
  if (bytes.length === 0) return { problem: 'the file is empty' };
  if (bytes.length < 100 || !Buffer.from(bytes.subarray(0, 16)).equals(SQLITE_MAGIC)) {
    return { problem: 'not an SQLite database (bad header)' };
  }
  let db: Database | undefined;
  try {
    db = new SQL.Database(bytes);
    if (trusted) {
      db.exec('SELECT count(*) FROM sqlite_master'); // reads the schema page: the file opens
      return { db };
    }
    const res = db.exec('PRAGMA integrity_check');
    const lines = (res[0]?.values ?? []).map((v) => String(v[0]));
    if (lines.length !== 1 || lines[0] !== 'ok') {
      db.close();
      return { problem: `integrity_check failed: ${lines.slice(0, 3).join('; ') || 'no result'}` };
    }
    return { db };
  } catch (err) {
    db?.close();
    return { problem: (err as Error).message };
  }
}

/** Reads and checks `path`; a missing file gives a fresh DB, a corrupt one is moved aside (then fresh). */
export async function loadDbFile(SQL: SqlJsStatic, path: string, onWarning?: (m: string) => void): Promise<LoadedFile> {
  for (const tmp of await sweepStaleTemps(path)) {
    onWarning?.(`removed ${tmp}, left by an interrupted write; ${path} holds the last complete state`);
  }
  await sweepStaleTemps(digestPathOf(path)); // a lost digest only costs a full check: no warning
  // The DB holds --params secrets and hook output: 0600, tightened with a warning if wider.
  for (const f of [path, digestPathOf(path)]) await tightenPrivateFile(f, { onWarning });

  let bytes: Uint8Array | undefined;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') {
      throw new WaptError('DB_ERROR', `cannot read ${path}: ${(err as Error).message}`, { cause: err, detail: { path, errno: code } });
    }
  }
  let out: LoadedFile;
  if (bytes === undefined) {
    out = { db: new SQL.Database(), fresh: true };
  } else {
    const recorded = await readDigest(path);
    const { db, problem } = check(SQL, bytes, recorded !== undefined && recorded === sha256Hex(bytes));
    if (db) {
      out = { db, fresh: false };
    } else {
      let movedTo: string;
      try {
        movedTo = await moveAside(path);
        await removeDigest(path);
      } catch (err) {
        throw new WaptError('DB_CORRUPT', `local DB ${path} is corrupt (${problem}) and could not be moved aside: ${(err as Error).message}`, {
          cause: err,
          detail: { path, reason: problem },
          hint: 'nothing was changed: make dbdir writable (or free space) so the damaged file can be moved aside, then run again',
        });
      }
      out = { db: new SQL.Database(), fresh: true, corrupt: { reason: problem ?? 'unknown', movedTo } };
    }
  }
  if (out.fresh) out.db.exec(`PRAGMA page_size = ${NEW_DB_PAGE_SIZE}`);
  configure(out.db);
  return out;
}

/** Writes `bytes` to `path` atomically (temp, fsync, rename, fsync dir), then its digest. */
export async function writeDbFile(path: string, bytes: Uint8Array): Promise<void> {
  await atomicWriteFile(path, bytes, { mode: PRIVATE_FILE_MODE }).catch((err: unknown) => {
    throw new WaptError('DB_ERROR', `cannot write ${path}: ${(err as Error).message}`, {
      cause: err,
      detail: { path, errno: (err as NodeJS.ErrnoException).code },
    });
  });
  // After the rename: the digest describes the file now in place (see digest.ts).
  await writeDigest(path, sha256Hex(bytes));
}

/** Rows changed through this connection since it was opened (export() reopens it: back to 0). */
export function changesOf(db: Database): number {
  const r = db.exec('SELECT total_changes()');
  return Number(r[0]?.values[0]?.[0] ?? 0);
}
