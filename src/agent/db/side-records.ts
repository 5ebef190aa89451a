// A second, independent record of each installed package, like dpkg's info/ beside its
// status file: `<dbdir>/installed/<name>.json` (dir 0700, files 0600: uninstall data and
// install parameters may be private), one small JSON file per package, replaced
// atomically right after every DB write (WaptDb.persist). When the DB file is found
// corrupt, the installed table is rebuilt from these files (open.ts), so a damaged DB
// never makes wapt-get forget what is on disk. Format: docs/local-state.md.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { TEMP_MARK } from '../../atomic-file.js';
import { isPidAlive } from '../lock.js';
import type { InstalledRow } from './types.js';

export const SIDE_RECORDS_DIR = 'installed';
export const SIDE_RECORD_FORMAT = 1;

export function sideRecordsDirOf(dbPath: string): string {
  return path.join(path.dirname(dbPath), SIDE_RECORDS_DIR);
}

/** Package names are plain, but a name never becomes a path: everything unusual is %-encoded. */
function fileOf(name: string): string {
  return `${encodeURIComponent(name).replace(/^\./, '%2E')}.json`;
}

function recordText(row: InstalledRow): string {
  return `${JSON.stringify({ format: SIDE_RECORD_FORMAT, package: row.package, row })}\n`;
}

/** Our own private directory: created 0700, refused when it is a symlink or not ours alone. */
async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await fs.lstat(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory (a symlink?)`);
  if ((st.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
}

async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/** temp (0600, never through a symlink: O_EXCL) → write → rename over the record. */
async function writeDurably(target: string, text: string): Promise<void> {
  const tmp = `${target}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await fs.open(tmp, 'wx', 0o600);
  try {
    try {
      await fh.writeFile(text);
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r').catch(() => undefined); // Windows cannot open directories
  try {
    await fh?.sync().catch(() => undefined);
  } finally {
    await fh?.close();
  }
}

/** Mirrors the installed table into the side records, writing only what changed. */
export class SideRecords {
  /** name → text last written or read, to skip unchanged rows. */
  private readonly known = new Map<string, string>();
  private loaded = false;

  constructor(readonly dir: string) {}

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    for (const f of await fs.readdir(this.dir).catch(() => [] as string[])) {
      const temp = /\.tmp-(\d+)-[0-9a-f]+$/.exec(f);
      // a temp file of a writer killed between write and rename: the record beside it holds
      if (temp && Number(temp[1]) !== process.pid && !isPidAlive(Number(temp[1]))) await fs.rm(path.join(this.dir, f), { force: true });
      if (!f.endsWith('.json') || f.includes(TEMP_MARK)) continue;
      const text = await fs.readFile(path.join(this.dir, f), 'utf8').catch(() => '');
      this.known.set(f, text);
    }
  }

  async sync(rows: readonly InstalledRow[]): Promise<void> {
    await this.load();
    const wanted = new Map<string, string>();
    for (const row of rows) wanted.set(fileOf(row.package), recordText(row));
    const changed = [...wanted].filter(([f, text]) => this.known.get(f) !== text);
    const gone = [...this.known.keys()].filter((f) => !wanted.has(f));
    if (changed.length === 0 && gone.length === 0) return;
    await ensurePrivateDir(this.dir);
    // each file temp + rename (a reader or a crash sees the old or the new record), then
    // one fsync of the directory. No fsync per file: 10,000 of them took 17 s. A record
    // that a power cut empties heals itself: load() reads what is really on disk, so the
    // next persist rewrites it, and the DB it mirrors was fsynced (atomic-file.ts).
    await inParallel(changed, 32, async ([f, text]) => {
      await writeDurably(path.join(this.dir, f), text);
      this.known.set(f, text);
    });
    await inParallel(gone, 32, async (f) => {
      await fs.rm(path.join(this.dir, f), { force: true });
      this.known.delete(f);
    });
    await syncDir(this.dir);
  }
}

export interface SideRecordsRead {
  /** False when the directory does not exist: nothing can be said about what was installed. */
  present: boolean;
  rows: InstalledRow[];
  /** Files that could not be read or parsed: packages whose record is lost. */
  unreadable: string[];
}

/** Reads every side record (for rebuilding a corrupt DB's installed table). */
export async function readSideRecords(dir: string): Promise<SideRecordsRead> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return { present: false, rows: [], unreadable: [] };
  }
  const rows: InstalledRow[] = [];
  const unreadable: string[] = [];
  for (const f of names.sort()) {
    if (!f.endsWith('.json') || f.includes(TEMP_MARK)) continue;
    try {
      const rec = JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as { format?: number; row?: InstalledRow };
      const row = rec.row;
      if (rec.format !== SIDE_RECORD_FORMAT || !row || typeof row.package !== 'string' || typeof row.version !== 'string') throw new Error('bad record');
      rows.push(row);
    } catch {
      unreadable.push(path.join(dir, f));
    }
  }
  return { present: true, rows, unreadable };
}
