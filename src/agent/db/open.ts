// Opening and saving the local DB: two sql.js files (docs/local-state.md). The state
// (installed, params incl. rollback marks, session_setup, log) is what install/remove
// transactions rewrite; the index (available, repos) is written only by `update`. sql.js
// keeps each whole in memory: openDb loads both (checking them first), persist() writes
// back only the files that changed, each atomically. A damaged file is moved aside, never
// overwritten or deleted, so nothing is lost to a bad guess.
import type { Database } from 'sql.js';
import { WaptError } from '../../errors.js';
import { AvailableTable } from './available.js';
import { InstalledTable } from './installed.js';
import { INDEX_MIGRATIONS, INDEX_SCHEMA_VERSION, migrate, SCHEMA_VERSION, userVersion } from './schema.js';
import { Transactions } from './sql.js';
import { loadSqlJs } from './sqljs.js';
import { changesOf, configure, loadDbFile, writeDbFile } from './store.js';
import { holdsIndex, splitIndexOut } from './split.js';
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
  /** The caller holds the run lock: a single-file DB split at open is written at once. */
  writable?: boolean;
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

/** `waptdb.sqlite` → `waptdb.index.sqlite`: the index file beside the state file. */
export function indexPathOf(statePath: string): string {
  return statePath.endsWith('.sqlite') ? `${statePath.slice(0, -'.sqlite'.length)}.index.sqlite` : `${statePath}.index.sqlite`;
}

/** How many times each file was written by this process (tests and `--json` debug output). */
export interface DbWrites {
  state: number;
  index: number;
  stateBytes: number;
  indexBytes: number;
}

type Which = 'state' | 'index';

export class WaptDb {
  readonly installed: InstalledTable;
  readonly available: AvailableTable;
  readonly repos: ReposTable;
  readonly params: ParamsTable;
  readonly sessions: SessionsTable;
  readonly log: LogTable;
  readonly indexPath: string;
  readonly writes: DbWrites = { state: 0, index: 0, stateBytes: 0, indexBytes: 0 };
  private readonly tx: Transactions;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  /** A file that must be written at the next persist whatever changed (fresh, migrated, a failed write). */
  private readonly forced = new Set<Which>();
  /** The index was just split out of the old single file: write it before the state (split.ts). */
  private splitPending = false;
  /** `<dbdir>/installed/*.json`: the second record of each installed package (side-records.ts). */
  private readonly side: SideRecords;
  /** Set when the state was rebuilt from side records because its file was corrupt. */
  recovery: CorruptRecovery | null = null;

  constructor(
    readonly path: string,
    private readonly state: Database,
    private readonly index: Database,
  ) {
    this.indexPath = indexPathOf(path);
    this.tx = new Transactions(state, index);
    this.installed = new InstalledTable(state);
    this.available = new AvailableTable(index, this.tx);
    this.repos = new ReposTable(index);
    this.params = new ParamsTable(state);
    this.sessions = new SessionsTable(state);
    this.log = new LogTable(state);
    this.side = new SideRecords(sideRecordsDirOf(path));
  }

  get schemaVersion(): number {
    return userVersion(this.state);
  }

  get indexSchemaVersion(): number {
    return userVersion(this.index);
  }

  /** @internal openDb: these files must be written at the next persist. */
  force(which: Which, split = false): void {
    this.forced.add(which);
    if (split) this.splitPending = true;
  }

  /** Runs a synchronous `fn` as one transaction over both files (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.tx.run(fn);
  }

  /**
   * Writes the files that changed since the last persist, each atomically (temp, fsync,
   * rename, fsync dir): the state first (then its side records), then the index; after a
   * split, the index first. The snapshot is taken when persist is called; concurrent
   * calls are written in call order.
   */
  persist(): Promise<void> {
    if (this.closed) return Promise.reject(new WaptError('INTERNAL', `persist after close of ${this.path}`));
    const order: Which[] = this.splitPending ? ['index', 'state'] : ['state', 'index'];
    const snaps: { which: Which; bytes: Uint8Array }[] = [];
    for (const which of order) {
      const db = which === 'state' ? this.state : this.index;
      if (!this.forced.has(which) && changesOf(db) === 0) continue;
      snaps.push({ which, bytes: db.export() }); // export() reopens the connection: changes count from 0
      configure(db);
      this.forced.delete(which);
    }
    const rows = snaps.some((s) => s.which === 'state') ? this.installed.list() : null;
    const write = this.queue.then(async () => {
      for (const [i, s] of snaps.entries()) {
        try {
          await writeDbFile(s.which === 'state' ? this.path : this.indexPath, s.bytes);
        } catch (err) {
          for (const rest of snaps.slice(i)) this.forced.add(rest.which); // not on disk: the next persist writes it
          throw err;
        }
        this.writes[s.which]++;
        this.writes[s.which === 'state' ? 'stateBytes' : 'indexBytes'] += s.bytes.length;
        // the second record of what is installed, as durable as the DB row it mirrors
        if (s.which === 'state' && rows) {
          await this.syncSide(rows).catch((err: unknown) => {
            this.forced.add('state'); // the retry (db-reserve.ts) writes the state and its records again
            throw err;
          });
        }
      }
      if (snaps.some((s) => s.which === 'state')) this.splitPending = false;
    });
    this.queue = write.catch(() => undefined);
    return write;
  }

  private async syncSide(rows: InstalledRow[]): Promise<void> {
    await this.side.sync(rows).catch((err: unknown) => {
      throw new WaptError('DB_ERROR', `cannot write the installed-package records in ${this.side.dir}: ${(err as Error).message}`, {
        cause: err,
        detail: { path: this.side.dir, errno: (err as NodeJS.ErrnoException).code },
      });
    });
  }

  /** Frees the in-memory DBs. Changes not persisted are dropped; persist() first. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.state.close();
    this.index.close();
  }
}

function migrateOrThrow(db: Database, path: string, supported: number, run: () => void, close: () => void): void {
  const version = userVersion(db);
  if (version > supported) {
    close();
    throw new WaptError('DB_ERROR', `${path} has schema version ${version}, newer than this wapt-get knows (${supported}); upgrade wapt-get`, {
      detail: { path, version, supported },
    });
  }
  try {
    run();
  } catch (err) {
    close();
    throw new WaptError('DB_ERROR', `cannot migrate ${path} from schema ${version} to ${supported}: ${(err as Error).message}`, {
      cause: err,
      detail: { path, version },
    });
  }
}

/**
 * Opens (or starts) the state DB at `path` and the index beside it (indexPathOf), and
 * migrates them (a single-file DB is split: split.ts). A missing file gives an empty DB,
 * written at the first persist(). A corrupt state file is moved aside and rebuilt from
 * the side records, a corrupt index file moved aside and started empty; then DB_CORRUPT
 * is thrown, unless recreateCorrupt (`update`, which fetches the index again).
 */
export async function openDb(path: string, opts: OpenDbOptions = {}): Promise<WaptDb> {
  const SQL = await loadSqlJs();
  const st = await loadDbFile(SQL, path, opts.onWarning);
  let split: Database | undefined;
  const closeState = () => {
    st.db.close();
    split?.close();
  };
  migrateOrThrow(
    st.db,
    path,
    SCHEMA_VERSION,
    () => {
      if (holdsIndex(st.db)) split = splitIndexOut(SQL, st.db);
      else migrate(st.db);
    },
    closeState,
  );

  const ix = split
    ? { db: split, fresh: false }
    : await loadDbFile(SQL, indexPathOf(path), opts.onWarning).catch((err: unknown) => {
        closeState();
        throw err;
      });
  const indexPath = indexPathOf(path);
  migrateOrThrow(
    ix.db,
    indexPath,
    INDEX_SCHEMA_VERSION,
    () => migrate(ix.db, INDEX_SCHEMA_VERSION, INDEX_MIGRATIONS),
    () => {
      closeState();
      ix.db.close();
    },
  );

  const wdb = new WaptDb(path, st.db, ix.db);
  if (st.fresh) wdb.force('state');
  if (ix.fresh) wdb.force('index');
  if (split) {
    wdb.force('state', true);
    wdb.force('index');
    if (opts.writable && !st.corrupt) {
      await wdb.persist().catch((err: unknown) => {
        wdb.close();
        throw err;
      });
    }
  }
  if (st.corrupt) await rebuildFromSideRecords(wdb, st.corrupt, opts);
  else if ('corrupt' in ix && ix.corrupt) reportCorruptIndex(wdb, ix.corrupt, opts);
  return wdb;
}

/**
 * Only the index file was corrupt: the installed state is untouched, the index (what
 * `update` fetches) is gone. `update` goes on and rebuilds it; any other verb fails once
 * with DB_CORRUPT, since an answer from an empty index would lie.
 */
function reportCorruptIndex(wdb: WaptDb, corrupt: { reason: string; movedTo: string }, opts: OpenDbOptions): void {
  const what =
    `the stored index ${wdb.indexPath} was corrupt (${corrupt.reason}); moved to ${corrupt.movedTo}; ` +
    'the installed state is untouched; `wapt-get update` fetches the index again';
  if (opts.recreateCorrupt) {
    opts.onWarning?.(`WARNING: ${what}`);
    return;
  }
  wdb.close();
  throw new WaptError('DB_CORRUPT', what, {
    detail: { path: wdb.indexPath, reason: corrupt.reason, movedTo: corrupt.movedTo, rebuilt: [], lost: ['the stored index'] },
    hint: 'run `wapt-get update` to fetch the index again, then run the command again',
  });
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
    '; the rollback marks and history are lost (the stored index, a separate file, is kept)';
  if (opts.recreateCorrupt) {
    opts.onWarning?.(`WARNING: ${what}`);
    return;
  }
  wdb.close();
  throw new WaptError('DB_CORRUPT', what, { detail: { path: wdb.path, ...wdb.recovery } });
}
