// Table `installed`: one row per installed package (W-G1), status per W-G2.
import type { Database, SqlValue } from 'sql.js';
import { WaptError } from '../../errors.js';
import { numOrNull, queryAll, queryOne, run, str, strOrNull } from './sql.js';
import type { AuditStatus, InstallStatus, InstalledInput, InstalledRow } from './types.js';

const COLUMNS = [
  'package',
  'version',
  'architecture',
  'section',
  'priority',
  'maturity',
  'locale',
  'explicit_by',
  'depends_by',
  'install_date',
  'install_status',
  'install_output',
  'install_params',
  'uninstall_data',
  'setup_code',
  'package_uuid',
  'signer_fingerprint',
  'filename',
  'repo',
  'last_audit_status',
  'last_audit_on',
  'last_audit_output',
  'next_audit_on',
  'error_code',
  'held',
  'hold_reason',
  'hold_until',
  'pending_action',
  'pid',
  'updated_at',
] as const satisfies readonly (keyof InstalledRow)[];

const INSERT = `INSERT OR REPLACE INTO installed (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`;

function defaults(name: string, version: string): InstalledRow {
  return {
    package: name,
    version,
    architecture: 'all',
    section: 'base',
    priority: 'optional',
    maturity: '',
    locale: '',
    explicit_by: null,
    depends_by: null,
    install_date: null,
    install_status: 'INIT',
    install_output: '',
    install_params: {},
    uninstall_data: null,
    setup_code: null,
    package_uuid: null,
    signer_fingerprint: null,
    filename: null,
    repo: null,
    last_audit_status: null,
    last_audit_on: null,
    last_audit_output: null,
    next_audit_on: null,
    error_code: null,
    held: false,
    hold_reason: null,
    hold_until: null,
    pending_action: null,
    pid: null,
    updated_at: '',
  };
}

function parseJson(text: SqlValue, fallback: unknown): unknown {
  try {
    return JSON.parse(str(text));
  } catch {
    return fallback;
  }
}

function fromSql(r: Record<string, SqlValue>): InstalledRow {
  return {
    package: str(r.package),
    version: str(r.version),
    architecture: str(r.architecture),
    section: str(r.section),
    priority: str(r.priority),
    maturity: str(r.maturity),
    locale: str(r.locale),
    explicit_by: strOrNull(r.explicit_by),
    depends_by: strOrNull(r.depends_by),
    install_date: strOrNull(r.install_date),
    install_status: str(r.install_status) as InstallStatus,
    install_output: str(r.install_output),
    install_params: (parseJson(r.install_params, {}) ?? {}) as Record<string, unknown>,
    uninstall_data: parseJson(r.uninstall_data, null),
    setup_code: strOrNull(r.setup_code),
    package_uuid: strOrNull(r.package_uuid),
    signer_fingerprint: strOrNull(r.signer_fingerprint),
    filename: strOrNull(r.filename),
    repo: strOrNull(r.repo),
    last_audit_status: strOrNull(r.last_audit_status) as AuditStatus | null,
    last_audit_on: strOrNull(r.last_audit_on),
    last_audit_output: strOrNull(r.last_audit_output),
    next_audit_on: strOrNull(r.next_audit_on),
    error_code: strOrNull(r.error_code),
    held: Number(r.held) === 1,
    hold_reason: strOrNull(r.hold_reason),
    hold_until: strOrNull(r.hold_until),
    pending_action: r.pending_action === 'remove' ? 'remove' : null,
    pid: numOrNull(r.pid),
    updated_at: str(r.updated_at),
  };
}

function toSql(row: InstalledRow): (SqlValue | boolean)[] {
  return COLUMNS.map((c) => {
    if (c === 'install_params' || c === 'uninstall_data') return JSON.stringify(row[c] ?? null);
    return row[c] as SqlValue | boolean;
  });
}

export class InstalledTable {
  constructor(private readonly db: Database) {}

  get(name: string): InstalledRow | undefined {
    const r = queryOne(this.db, 'SELECT * FROM installed WHERE package = ?', [name]);
    return r && fromSql(r);
  }

  /** Every installed row, sorted by package name. */
  list(): InstalledRow[] {
    return queryAll(this.db, 'SELECT * FROM installed ORDER BY package').map(fromSql);
  }

  /**
   * Inserts or updates one package. Fields left out keep their stored value (or the
   * default for a new row); updated_at is always set. Returns the stored row.
   */
  upsert(input: InstalledInput): InstalledRow {
    const base = this.get(input.package) ?? defaults(input.package, input.version);
    const row: InstalledRow = { ...base, ...stripUndefined(input), updated_at: new Date().toISOString() };
    run(this.db, INSERT, toSql(row));
    return row;
  }

  /** Sets install_status (and any other fields) of an installed package; NOT_INSTALLED if absent. */
  setStatus(name: string, status: InstallStatus, fields: Partial<Omit<InstalledRow, 'package'>> = {}): InstalledRow {
    const current = this.get(name);
    if (!current) throw new WaptError('NOT_INSTALLED', `${name} is not in the local DB`, { detail: { package: name } });
    return this.upsert({ ...current, ...stripUndefined(fields), package: name, install_status: status });
  }

  /** Forgets a package (W-G3 `forget`; also the last step of remove). Returns whether it was there. */
  remove(name: string): boolean {
    return run(this.db, 'DELETE FROM installed WHERE package = ?', [name]) > 0;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
