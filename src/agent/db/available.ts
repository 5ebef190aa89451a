// Table `available`: the verified entries of each repository's Packages index (W-F3).
import type { Database, SqlValue } from 'sql.js';
import { numOrNull, queryAll, queryOne, run, runMany, str, strOrNull, type Transactions } from './sql.js';
import type { AvailableRow } from './types.js';

/** What an index entry must carry; the rest defaults as in an empty control field. */
export type AvailableInput = Pick<AvailableRow, 'package' | 'version' | 'filename' | 'control'> &
  Partial<Omit<AvailableRow, 'repo' | 'package' | 'version' | 'filename' | 'control'>>;

const COLUMNS = [
  'repo',
  'package',
  'version',
  'architecture',
  'maturity',
  'locale',
  'section',
  'filename',
  'size',
  'md5sum',
  'sha256',
  'signer_fingerprint',
  'signature_date',
  'control',
  'depends',
  'conflicts',
  'priority',
  'description',
] as const satisfies readonly (keyof AvailableRow)[];

// The control text (~2 KB a row, most of the bytes) is bound as UTF-8 bytes and cast
// back to TEXT by SQLite (the DB encoding is UTF-8): sql.js encodes a bound string
// with a JavaScript loop, three passes per value; Buffer.from does it natively. The
// stored value is the same TEXT either way.
const INSERT = `INSERT INTO available (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => (c === 'control' ? 'CAST(? AS TEXT)' : '?')).join(', ')})`;
const SELECT = `SELECT ${COLUMNS.join(', ')} FROM available`;
const IN_CHUNK = 500;

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
    repo,
    e.package,
    e.version,
    e.architecture ?? 'all',
    e.maturity ?? '',
    e.locale ?? '',
    e.section ?? 'base',
    e.filename,
    e.size ?? null,
    e.md5sum ?? null,
    e.sha256 ?? null,
    e.signer_fingerprint ?? null,
    e.signature_date ?? null,
    Buffer.from(e.control, 'utf8'),
    e.depends ?? '',
    e.conflicts ?? '',
    e.priority ?? 'optional',
    e.description ?? '',
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

  /**
   * Every entry of any of `names` (e.g. the installed ones, to find upgrades without
   * reading the whole index). Rows of one name come in the order of forPackage().
   */
  forPackages(names: Iterable<string>): AvailableRow[] {
    const unique = [...new Set(names)];
    const out: AvailableRow[] = [];
    // Chunks stay far below SQLite's bound-parameter limit.
    for (let i = 0; i < unique.length; i += IN_CHUNK) {
      const chunk = unique.slice(i, i + IN_CHUNK);
      const sql = `${SELECT} WHERE package IN (${chunk.map(() => '?').join(', ')}) ORDER BY package, repo, id`;
      for (const r of queryAll(this.db, sql, chunk)) out.push(fromSql(r));
    }
    return out;
  }

  all(): AvailableRow[] {
    return queryAll(this.db, `${SELECT} ORDER BY package, repo, id`).map(fromSql);
  }

  /** Case-insensitive (ASCII) substring match on name and description; '' lists all. */
  search(term: string): AvailableRow[] {
    const like = likeAnywhere(term);
    return queryAll(this.db, `${SELECT} WHERE package LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\' ORDER BY package, repo, id`, [like, like]).map(
      fromSql,
    );
  }

  count(repo?: string): number {
    const r =
      repo === undefined
        ? queryOne(this.db, 'SELECT count(*) AS n FROM available')
        : queryOne(this.db, 'SELECT count(*) AS n FROM available WHERE repo = ?', [repo]);
    return Number(r?.n ?? 0);
  }
}
