// The small tables: repos (update state per repository), params (key/value),
// session_setup (per-user hooks done) and log (per-package history).
import os from 'node:os';
import type { Database, SqlValue } from 'sql.js';
import { numOrNull, queryAll, queryOne, run, str, strOrNull } from './sql.js';
import type { LogLevel, LogRow, RepoRow, SessionSetupRow } from './types.js';

export type RepoInput = Pick<RepoRow, 'name' | 'url'> & Partial<Omit<RepoRow, 'name' | 'url'>>;

function repoFromSql(r: Record<string, SqlValue>): RepoRow {
  return {
    name: str(r.name),
    url: str(r.url),
    last_update: strOrNull(r.last_update),
    etag: strOrNull(r.etag),
    last_modified: strOrNull(r.last_modified),
    index_version: numOrNull(r.index_version),
    index_signed: Number(r.index_signed) === 1,
    index_expires: strOrNull(r.index_expires),
    packages_count: Number(r.packages_count ?? 0),
    rejected_count: Number(r.rejected_count ?? 0),
  };
}

export class ReposTable {
  constructor(private readonly db: Database) {}

  get(name: string): RepoRow | undefined {
    const r = queryOne(this.db, 'SELECT * FROM repos WHERE name = ?', [name]);
    return r && repoFromSql(r);
  }

  list(): RepoRow[] {
    return queryAll(this.db, 'SELECT * FROM repos ORDER BY name').map(repoFromSql);
  }

  /** Inserts or updates; fields left out keep their stored value (or the default). */
  put(input: RepoInput): RepoRow {
    const base: RepoRow = this.get(input.name) ?? {
      name: input.name,
      url: input.url,
      last_update: null,
      etag: null,
      last_modified: null,
      index_version: null,
      index_signed: false,
      index_expires: null,
      packages_count: 0,
      rejected_count: 0,
    };
    const row: RepoRow = { ...base };
    for (const [k, v] of Object.entries(input)) if (v !== undefined) (row as unknown as Record<string, unknown>)[k] = v;
    run(
      this.db,
      `INSERT OR REPLACE INTO repos (name, url, last_update, etag, last_modified, index_version, index_signed,
         index_expires, packages_count, rejected_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        row.name,
        row.url,
        row.last_update,
        row.etag,
        row.last_modified,
        row.index_version,
        row.index_signed,
        row.index_expires,
        row.packages_count,
        row.rejected_count,
      ],
    );
    return row;
  }
}

export class ParamsTable {
  constructor(private readonly db: Database) {}

  get(key: string): string | undefined {
    const r = queryOne(this.db, 'SELECT value FROM params WHERE key = ?', [key]);
    return r === undefined ? undefined : str(r.value);
  }

  set(key: string, value: string): void {
    run(this.db, 'INSERT OR REPLACE INTO params (key, value) VALUES (?, ?)', [key, value]);
  }

  delete(key: string): boolean {
    return run(this.db, 'DELETE FROM params WHERE key = ?', [key]) > 0;
  }
}

function sessionFromSql(r: Record<string, SqlValue>): SessionSetupRow {
  return { user: str(r.user), package: str(r.package), version: str(r.version), done_on: str(r.done_on) };
}

export class SessionsTable {
  constructor(private readonly db: Database) {}

  get(user: string, pkg: string): SessionSetupRow | undefined {
    const r = queryOne(this.db, 'SELECT * FROM session_setup WHERE user = ? AND package = ?', [user, pkg]);
    return r && sessionFromSql(r);
  }

  /** Records that `user` ran the session_setup hook of `pkg` at `version`. */
  record(user: string, pkg: string, version: string, doneOn = new Date().toISOString()): void {
    run(this.db, 'INSERT OR REPLACE INTO session_setup (user, package, version, done_on) VALUES (?, ?, ?, ?)', [user, pkg, version, doneOn]);
  }

  forUser(user: string): SessionSetupRow[] {
    return queryAll(this.db, 'SELECT * FROM session_setup WHERE user = ? ORDER BY package', [user]).map(sessionFromSql);
  }

  /** Drops every user's record for `pkg` (after remove). Returns the count. */
  forgetPackage(pkg: string): number {
    return run(this.db, 'DELETE FROM session_setup WHERE package = ?', [pkg]);
  }
}

function logFromSql(r: Record<string, SqlValue>): LogRow {
  return {
    id: Number(r.id),
    at: str(r.at),
    package: strOrNull(r.package),
    level: str(r.level) as LogLevel,
    message: str(r.message),
    user: strOrNull(r.user),
  };
}

/** The person behind this run: sudo's caller when there is one, else the process's user. */
function whoRuns(): string {
  if (process.env.SUDO_USER) return process.env.SUDO_USER;
  try {
    return os.userInfo().username;
  } catch {
    return typeof process.getuid === 'function' ? `uid ${process.getuid()}` : 'unknown';
  }
}

export class LogTable {
  constructor(private readonly db: Database) {}

  append(level: LogLevel, message: string, pkg: string | null = null): void {
    run(this.db, 'INSERT INTO log (at, package, level, message, user) VALUES (?, ?, ?, ?, ?)', [new Date().toISOString(), pkg, level, message, whoRuns()]);
  }

  /** Oldest first; `limit` keeps the newest entries. */
  forPackage(pkg: string, limit = 1000): LogRow[] {
    return queryAll(this.db, 'SELECT * FROM (SELECT * FROM log WHERE package = ? ORDER BY id DESC LIMIT ?) ORDER BY id', [pkg, limit]).map(logFromSql);
  }

  /** Every package's entries, oldest first; `limit` keeps the newest. */
  list(limit = 1000): LogRow[] {
    return queryAll(this.db, 'SELECT * FROM (SELECT * FROM log ORDER BY id DESC LIMIT ?) ORDER BY id', [limit]).map(logFromSql);
  }

  /** Keeps only the newest `keep` entries so the log cannot grow without bound. */
  prune(keep: number): number {
    return run(this.db, 'DELETE FROM log WHERE id <= (SELECT max(id) FROM log) - ?', [keep]);
  }
}
