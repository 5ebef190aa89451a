// Table `available`: the verified entries of each repository's Packages index (W-F3).
import type { Database, SqlValue } from 'sql.js';
import { numOrNull, queryAll, queryOne, run, runMany, str, strOrNull, type Transactions } from './sql.js';
import type { AvailableRow } from './types.js';

/** What an index entry must carry; the rest defaults as in an empty control field. */
export type AvailableInput = Pick<AvailableRow, 'package' | 'version' | 'filename' | 'control'> &
  Partial<Omit<AvailableRow, 'repo' | 'package' | 'version' | 'filename' | 'control'>>;

const COLUMNS = [
  'repo', 'package', 'version', 'architecture', 'maturity', 'locale', 'section', 'filename',
  'size', 'md5sum', 'sha256', 'signer_fingerprint', 'signature_date', 'control', 'depends',
  'conflicts', 'priority', 'description',
] as const satisfies readonly (keyof AvailableRow)[];

const INSERT = `INSERT INTO available (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`;
const SELECT = `SELECT ${COLUMNS.join(', ')} FROM available`;

function fromSql(r: Record<string, SqlValue>): AvailableRow {
  return {
    repo: str(r.repo),
    package: str(r.package),
    version: str(r.version),
    architecture: str(r.architecture),
    maturity: str(r.maturity),
    locale: str(r.locale),
    section: str(r.section),
    filename: str(r.filename),
    size: numOrNull(r.size),
    md5sum: strOrNull(r.md5sum),
    sha256: strOrNull(r.sha256),
    signer_fingerprint: strOrNull(r.signer_fingerprint),
    signature_date: strOrNull(r.signature_date),
    control: str(r.control),
    depends: str(r.depends),
    conflicts: str(r.conflicts),
    priority: str(r.priority),
    description: str(r.description),
  };
}

function toSql(repo: string, e: AvailableInput): (SqlValue | undefined)[] {
  return [
    repo, e.package, e.version, e.architecture ?? 'all', e.maturity ?? '', e.locale ?? '',
    e.section ?? 'base', e.filename, e.size ?? null, e.md5sum ?? null, e.sha256 ?? null,
    e.signer_fingerprint ?? null, e.signature_date ?? null, e.control, e.depends ?? '',
    e.conflicts ?? '', e.priority ?? 'optional', e.description ?? '',
  ];
}

/** LIKE pattern matching `term` literally anywhere (\ escapes % and _). */
function likeAnywhere(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
}

export class AvailableTable {
  constructor(
    private readonly db: Database,
    private readonly tx: Transactions,
  ) {}

  /** Replaces everything known about `repo` in one transaction; returns the row count. */
  replaceRepo(repo: string, rows: Iterable<AvailableInput>): number {
    return this.tx.run(() => {
      run(this.db, 'DELETE FROM available WHERE repo = ?', [repo]);
      const params = (function* () {
        for (const r of rows) yield toSql(repo, r);
      })();
      return runMany(this.db, INSERT, params);
    });
  }

  /** Every entry named `name`, across repositories (the resolver picks the version). */
  forPackage(name: string): AvailableRow[] {
    return queryAll(this.db, `${SELECT} WHERE package = ? ORDER BY repo, id`, [name]).map(fromSql);
  }

  all(): AvailableRow[] {
    return queryAll(this.db, `${SELECT} ORDER BY package, repo, id`).map(fromSql);
  }

  /** Case-insensitive (ASCII) substring match on name and description; '' lists all. */
  search(term: string): AvailableRow[] {
    const like = likeAnywhere(term);
    return queryAll(
      this.db,
      `${SELECT} WHERE package LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\' ORDER BY package, repo, id`,
      [like, like],
    ).map(fromSql);
  }

  count(repo?: string): number {
    const r = repo === undefined
      ? queryOne(this.db, 'SELECT count(*) AS n FROM available')
      : queryOne(this.db, 'SELECT count(*) AS n FROM available WHERE repo = ?', [repo]);
    return Number(r?.n ?? 0);
  }
}
