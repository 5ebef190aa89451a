// Row shapes of the local DB (W-G1). Field names are the column names, snake_case like
// WAPT's own DB and JSON output, so nothing maps names twice.

/** W-G2: install_status values. NEED-UPGRADE is computed by WAPT's server; we also store it. */
export const INSTALL_STATUSES = ['INIT', 'DOWNLOAD', 'RUNNING', 'OK', 'ERROR', 'UNKNOWN', 'UPGRADING', 'POSTPONED', 'NEED-UPGRADE'] as const;
export type InstallStatus = (typeof INSTALL_STATUSES)[number];

/** What a row is waiting for beyond its install_status (see InstalledRow.pending_action). */
export type PendingAction = 'remove';

/** W-G2: audit results (RUNNING while an audit hook runs, as in WAPT 1.8). */
export type AuditStatus = 'OK' | 'WARNING' | 'ERROR' | 'UNKNOWN' | 'RUNNING';

/** One installed package (table `installed`). */
export interface InstalledRow {
  package: string;
  version: string;
  architecture: string;
  section: string;
  priority: string;
  maturity: string;
  locale: string;
  /** The user who asked; null when pulled in as a dependency (W-G1). */
  explicit_by: string | null;
  /** The package whose depends pulled this one in (ours). */
  depends_by: string | null;
  /** ISO 8601 date-time. */
  install_date: string | null;
  install_status: InstallStatus;
  install_output: string;
  /** Parameters given to the install hook (stored as JSON). */
  install_params: Record<string, unknown>;
  /** Whatever the uninstall hook needs later (stored as JSON; WAPT's uninstall_key). */
  uninstall_data: unknown;
  /** setup.mjs text kept for remove / session-setup (WAPT's setuppy). */
  setup_code: string | null;
  package_uuid: string | null;
  signer_fingerprint: string | null;
  filename: string | null;
  repo: string | null;
  last_audit_status: AuditStatus | null;
  last_audit_on: string | null;
  last_audit_output: string | null;
  next_audit_on: string | null;
  /** WaptError code of the last failure, when install_status is ERROR. */
  error_code: string | null;
  held: boolean;
  hold_reason: string | null;
  hold_until: string | null;
  /**
   * 'remove' while a removal the admin asked for is running or has not completed (its
   * uninstall() failed or was killed): the row stays, `upgrade` runs the removal again and
   * never turns it into an install. null otherwise. (ours)
   */
  pending_action: PendingAction | null;
  /** pid of the wapt-get run that owns a RUNNING row (WAPT's process_id). */
  pid: number | null;
  /** ISO 8601; set by every write. */
  updated_at: string;
}

/** What upsert needs: the name and version; every other field has a default. */
export type InstalledInput = Pick<InstalledRow, 'package' | 'version'> & Partial<Omit<InstalledRow, 'package' | 'version' | 'updated_at'>>;

/** One entry of a repository index (table `available`). */
export interface AvailableRow {
  repo: string;
  package: string;
  version: string;
  architecture: string;
  maturity: string;
  locale: string;
  section: string;
  filename: string;
  size: number | null;
  md5sum: string | null;
  sha256: string | null;
  signer_fingerprint: string | null;
  signature_date: string | null;
  /** The full control text as the index carried it. */
  control: string;
  depends: string;
  conflicts: string;
  priority: string;
  description: string;
}

/** Per-repository update state (table `repos`). */
export interface RepoRow {
  name: string;
  url: string;
  last_update: string | null;
  etag: string | null;
  last_modified: string | null;
  /** Highest signed index version accepted (X2 rollback protection). */
  index_version: number | null;
  /** A signed index was seen once: an unsigned one is refused from then on (X2). */
  index_signed: boolean;
  index_expires: string | null;
  packages_count: number;
  rejected_count: number;
}

export interface SessionSetupRow {
  user: string;
  package: string;
  version: string;
  done_on: string;
}

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export interface LogRow {
  id: number;
  at: string;
  package: string | null;
  level: LogLevel;
  message: string;
  /** Who ran the operation (SUDO_USER when run through sudo); null in rows older than schema 4. */
  user: string | null;
}
