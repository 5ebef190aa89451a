// Thin typed helpers over sql.js statements: bind, step, free — always freed, even on error.
import type { Database, SqlValue } from 'sql.js';

export type Param = SqlValue | boolean | undefined;

function bindable(params: readonly Param[]): SqlValue[] {
  return params.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

export function queryAll(db: Database, sql: string, params: readonly Param[] = []): Record<string, SqlValue>[] {
  const stmt = db.prepare(sql);
  try {
    stmt.bind(bindable(params));
    const rows: Record<string, SqlValue>[] = [];
    while (stmt.step()) rows.push(stmt.getAsObject());
    return rows;
  } finally {
    stmt.free();
  }
}

export function queryOne(db: Database, sql: string, params: readonly Param[] = []): Record<string, SqlValue> | undefined {
  return queryAll(db, sql, params)[0];
}

export function run(db: Database, sql: string, params: readonly Param[] = []): number {
  db.run(sql, bindable(params));
  return db.getRowsModified();
}

/** Runs one prepared statement for many parameter rows (the fast path for bulk inserts). */
export function runMany(db: Database, sql: string, rows: Iterable<readonly Param[]>): number {
  const stmt = db.prepare(sql);
  let n = 0;
  try {
    for (const r of rows) {
      stmt.run(bindable(r));
      n++;
    }
  } finally {
    stmt.free();
  }
  return n;
}

/**
 * Runs `fn` atomically over one or more connections (the state and the index file):
 * every one begins, commits or rolls back together. Nested calls become savepoints so
 * helpers compose. Each file reaches the disk only through persist().
 */
export class Transactions {
  private depth = 0;
  private readonly dbs: readonly Database[];
  constructor(...dbs: Database[]) {
    this.dbs = dbs;
  }

  private exec(sql: string): void {
    for (const db of this.dbs) db.exec(sql);
  }

  run<T>(fn: () => T): T {
    const sp = `sp${this.depth}`;
    this.exec(this.depth === 0 ? 'BEGIN' : `SAVEPOINT ${sp}`);
    this.depth++;
    try {
      const out = fn();
      // sql.js is synchronous; an async callback would commit before its work ran.
      if (out instanceof Promise) throw new Error('transaction callbacks must be synchronous');
      this.depth--;
      this.exec(this.depth === 0 ? 'COMMIT' : `RELEASE ${sp}`);
      return out;
    } catch (err) {
      this.depth--;
      this.exec(this.depth === 0 ? 'ROLLBACK' : `ROLLBACK TO ${sp}; RELEASE ${sp}`);
      throw err;
    }
  }
}

export const str = (v: SqlValue | undefined): string => (v === null || v === undefined ? '' : String(v));
export const strOrNull = (v: SqlValue | undefined): string | null => (v === null || v === undefined ? null : String(v));
export const numOrNull = (v: SqlValue | undefined): number | null => (v === null || v === undefined ? null : Number(v));
