// Opening and saving the local DB. sql.js keeps the whole DB in memory: openDb loads
// the file (checking it first), persist() writes it back atomically. A damaged file is
// moved aside, never overwritten or deleted, so nothing is lost to a bad guess.
import { promises as fs } from 'node:fs';
import type { Database } from 'sql.js';
import { WaptError } from '../../errors.js';
import { AvailableTable } from './available.js';
import { digestPathOf, readDigest, removeDigest, sha256Hex, writeDigest } from './digest.js';
import { atomicWriteFile } from '../../atomic-file.js';
import { PRIVATE_FILE_MODE, tightenPrivateFile } from '../../private-state.js';
import { moveAside, sweepStaleTemps } from './files.js';
import { InstalledTable } from './installed.js';
import { migrate, SCHEMA_VERSION, userVersion } from './schema.js';
import { Transactions } from './sql.js';
import { loadSqlJs } from './sqljs.js';
import { LogTable, ParamsTable, ReposTable, SessionsTable } from './tables.js';
import { readSideRecords, SideRecords, sideRecordsDirOf } from './side-records.js';
import type { InstalledRow } from './types.js';

export interface OpenDbOptions {
  /** Non-fatal problems (leftover temp files, a corrupt DB replaced by recreateCorrupt). */
  onWarning?: (message: string) => void;
  /**
   * After moving a corrupt DB aside and rebuilding its installed table from the side
   * records, go on with the rebuilt DB instead of throwing DB_CORRUPT (used by `update`,
   * which refetches the index, the part that is lost; it reports `recovery` at the end).
   */
  recreateCorrupt?: boolean;
}

/** What opening a corrupt DB recovered (WaptDb.recovery): the caller must still say so. */
export interface CorruptRecovery {
  reason: string;
  movedTo: string;
  /** Installed packages rebuilt from `<dbdir>/installed/`. */
  rebuilt: string[];
  /** What could not be recovered: unreadable records, no side records at all. Empty when every package came back. */
  lost: string[];
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * New DBs use 8 KiB pages: an index row (~2.6 KB, mostly its control text) fits 3 to a
 * page instead of 1 per 4 KiB page, so the file, its export and its read are ~1/3 smaller.
 * Must be set before the first table exists; existing DBs keep their page size.
 */
const NEW_DB_PAGE_SIZE = 8192;

/**
 * Per-connection settings. The DB lives in sql.js's in-memory file system and reaches
 * the disk only through persist() (export, temp file, fsync, atomic rename), so the
 * rollback journal never protects the on-disk file: a crash mid-transaction loses the
 * in-memory DB and leaves the last persisted file intact. Keeping the journal in memory
 * (MEMORY, not OFF: ROLLBACK must still work) spares copying every changed page into a
 * second in-memory file, which at 10,000 replaced index rows was ~40 MB of copying.
 */
function configure(db: Database): void {
  db.exec('PRAGMA journal_mode = MEMORY');
}

export class WaptDb {
  readonly installed: InstalledTable;
  readonly available: AvailableTable;
  readonly repos: ReposTable;
  readonly params: ParamsTable;
  readonly sessions: SessionsTable;
  readonly log: LogTable;
  private readonly tx: Transactions;
  private writes: Promise<void> = Promise.resolve();
  private closed = false;
  /** `<dbdir>/installed/*.json`: the second record of each installed package (side-records.ts). */
  private readonly side: SideRecords;
  /** Set when this DB was rebuilt from side records because the file was corrupt. */
  recovery: CorruptRecovery | null = null;

  constructor(
    readonly path: string,
    private readonly db: Database,
  ) {
    this.tx = new Transactions(db);
    this.installed = new InstalledTable(db);
    this.available = new AvailableTable(db, this.tx);
    this.repos = new ReposTable(db);
    this.params = new ParamsTable(db);
    this.sessions = new SessionsTable(db);
    this.log = new LogTable(db);
    this.side = new SideRecords(sideRecordsDirOf(path));
  }

  get schemaVersion(): number {
    return userVersion(this.db);
  }

  /** Runs a synchronous `fn` as one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.tx.run(fn);
  }

  /**
   * Writes the DB to `path` atomically (temp, fsync, rename, fsync dir). The snapshot is
   * taken when persist is called; concurrent calls are written in call order.
   */
  persist(): Promise<void> {
    if (this.closed) return Promise.reject(new WaptError('INTERNAL', `persist after close of ${this.path}`));
    const bytes = this.db.export();
    const rows = this.installed.list();
    const write = this.writes.then(async () => {
      await atomicWriteFile(this.path, bytes, { mode: PRIVATE_FILE_MODE }).catch((err: unknown) => {
        throw new WaptError('DB_ERROR', `cannot write ${this.path}: ${(err as Error).message}`, {
          cause: err,
          detail: { path: this.path, errno: (err as NodeJS.ErrnoException).code },
        });
      });
      // After the rename: the digest describes the file now in place (see digest.ts).
      await writeDigest(this.path, sha256Hex(bytes));
      // the second record of what is installed, as durable as the DB row it mirrors
      await this.side.sync(rows).catch((err: unknown) => {
        throw new WaptError('DB_ERROR', `cannot write the installed-package records in ${this.side.dir}: ${(err as Error).message}`, {
          cause: err,
          detail: { path: this.side.dir, errno: (err as NodeJS.ErrnoException).code },
        });
      });
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  /** Frees the in-memory DB. Changes not persisted are dropped; persist() first. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

/**
 * Why `bytes` cannot be used as our DB, or undefined if it can (db is then returned open).
 * `trusted`: the bytes are exactly what persist() last wrote (digest.ts), so the full
 * integrity check is skipped; the header is checked either way.
 */
function check(SQL: { Database: new (data?: Uint8Array) => Database }, bytes: Uint8Array, trusted: boolean): { db?: Database; problem?: string } {
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

/**
 * Opens (or starts) the DB at `path` and migrates it to the current schema. A missing
 * file gives an empty DB, written at the first persist(). A corrupt file is moved to
 * `<path>.corrupt-<timestamp>` and DB_CORRUPT is thrown, unless recreateCorrupt.
 */
export async function openDb(path: string, opts: OpenDbOptions = {}): Promise<WaptDb> {
  const SQL = await loadSqlJs();
  for (const tmp of await sweepStaleTemps(path)) {
    opts.onWarning?.(`removed ${tmp}, left by an interrupted write; ${path} holds the last complete state`);
  }
  await sweepStaleTemps(digestPathOf(path)); // a lost digest only costs a full check: no warning
  // The DB holds --params secrets and hook output: 0600, tightened with a warning if wider.
  for (const f of [path, digestPathOf(path)]) await tightenPrivateFile(f, { onWarning: opts.onWarning });

  let bytes: Uint8Array | undefined;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') {
      throw new WaptError('DB_ERROR', `cannot read ${path}: ${(err as Error).message}`, { cause: err, detail: { path, errno: code } });
    }
  }

  let db: Database;
  let fresh = false;
  let corrupt: { reason: string; movedTo: string } | undefined;
  if (bytes === undefined) {
    db = new SQL.Database();
    fresh = true;
  } else {
    const recorded = await readDigest(path);
    const { db: loaded, problem } = check(SQL, bytes, recorded !== undefined && recorded === sha256Hex(bytes));
    if (loaded) {
      db = loaded;
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
      corrupt = { reason: problem ?? 'unknown', movedTo };
      db = new SQL.Database();
      fresh = true;
    }
  }
  if (fresh) db.exec(`PRAGMA page_size = ${NEW_DB_PAGE_SIZE}`);
  configure(db);

  const version = userVersion(db);
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new WaptError('DB_ERROR', `${path} has schema version ${version}, newer than this wapt-get knows (${SCHEMA_VERSION}); upgrade wapt-get`, {
      detail: { path, version, supported: SCHEMA_VERSION },
    });
  }
  try {
    migrate(db);
  } catch (err) {
    db.close();
    throw new WaptError('DB_ERROR', `cannot migrate ${path} from schema ${version} to ${SCHEMA_VERSION}: ${(err as Error).message}`, {
      cause: err,
      detail: { path, version },
    });
  }
  const wdb = new WaptDb(path, db);
  if (corrupt) await rebuildFromSideRecords(wdb, corrupt, opts);
  return wdb;
}

/**
 * The DB file was corrupt and moved aside: the installed table comes back from the side
 * records and is persisted at once. Then DB_CORRUPT is thrown (the index and history are
 * gone: an answer from this DB now would lie), unless the caller is `update`
 * (recreateCorrupt), which refetches the index and reports `recovery` itself.
 */
async function rebuildFromSideRecords(wdb: WaptDb, corrupt: { reason: string; movedTo: string }, opts: OpenDbOptions): Promise<void> {
  const dir = sideRecordsDirOf(wdb.path);
  const side = await readSideRecords(dir);
  wdb.transaction(() => {
    for (const row of side.rows) wdb.installed.upsert(row as InstalledRow);
    wdb.log.append(
      'error',
      `local DB was corrupt (${corrupt.reason}), moved to ${corrupt.movedTo}; ${side.rows.length} installed packages rebuilt from ${dir}`,
    );
  });
  const lost = [
    ...(side.present ? [] : [`${dir} does not exist: which packages were installed is unknown`]),
    ...side.unreadable.map((f) => `${f} is unreadable: that package's record is lost`),
  ];
  wdb.recovery = { ...corrupt, rebuilt: side.rows.map((r) => r.package), lost };
  try {
    await wdb.persist();
  } catch (err) {
    wdb.close();
    throw err;
  }
  const what =
    `local DB ${wdb.path} was corrupt (${corrupt.reason}); moved to ${corrupt.movedTo}; ` +
    `${side.rows.length} installed package record(s) rebuilt from ${dir}` +
    (lost.length ? `; NOT recovered: ${lost.join('; ')}` : '') +
    '; the repository index, rollback marks and history are lost';
  if (opts.recreateCorrupt) {
    opts.onWarning?.(`WARNING: ${what}`);
    return;
  }
  wdb.close();
  throw new WaptError('DB_CORRUPT', what, { detail: { path: wdb.path, ...wdb.recovery } });
}
