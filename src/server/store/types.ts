// One store interface, two backends (files: no set-up; PostgreSQL: many instances).
// Every check-then-write that guards the fleet (replay, one certificate one UUID,
// enrolment token uses, tombstones) is ONE call here, so each backend makes it atomic
// its own way (a per-host queue in one process; one SQL statement in PostgreSQL).
import type { SignedAction, SignedClaim, ActionOutcome } from '../../protocol/index.js';

/** Host UUIDs become keys and file names: letters, digits, `.`, `_`, `-`, not starting with a dot. */
const UUID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The store key (lowercase: UUIDs are hex, and file systems may fold case), or null if unusable. */
export function hostKey(uuid: unknown): string | null {
  return typeof uuid === 'string' && UUID_RE.test(uuid) ? uuid.toLowerCase() : null;
}

export interface HostRecord {
  host_uuid: string;
  /** PEM of the certificate pinned at first registration. */
  certificate: string;
  fingerprint: string;
  registered_at: string;
  last_seen: string;
  /** Highest report sequence accepted (replay protection, ours). */
  last_sequence: number;
  hostname: string;
  /** The signed claims as received, so anyone can verify them again. */
  inventory: SignedClaim | null;
  inventory_at: string | null;
  status: SignedClaim | null;
  status_at: string | null;
}

/** Kept after DELETE /api/v1/hosts/<uuid>: an old report of the forgotten host cannot come back. */
export interface Tombstone {
  host_uuid: string;
  fingerprint: string;
  last_sequence: number;
  forgotten_at: string;
}

export type HostState = 'OK' | 'ERROR' | 'NEED-UPGRADE' | 'UNKNOWN';
export type PackageState = 'OK' | 'ERROR' | 'NEED-UPGRADE' | 'pending';

export interface PackageRow {
  package: string;
  version: string;
  state: PackageState;
  install_status: string;
  error_code: string | null;
  last_audit_status: string | null;
}

export interface HostSummary {
  host_uuid: string;
  hostname: string;
  fingerprint: string;
  registered_at: string;
  last_seen: string;
  last_sequence: number;
  state: HostState;
  os: string | null;
  wapt_get_version: string | null;
  packages_from: 'status' | 'inventory' | null;
  counts: { total: number; ok: number; error: number; need_upgrade: number; pending: number; audit_error: number };
  packages: PackageRow[];
}

export interface HostQuery {
  limit: number;
  /** Cursor: the last host key of the previous page. */
  after?: string;
  state?: HostState;
  /** Hosts that have this package (any version). */
  package?: string;
  /** Case-insensitive substring of hostname or UUID. */
  q?: string;
}

export interface HostPage {
  hosts: HostSummary[];
  /** Give as `after` for the next page; null on the last one. */
  next: string | null;
}

export interface PackageStat {
  package: string;
  version: string;
  OK: number;
  ERROR: number;
  'NEED-UPGRADE': number;
  pending: number;
}

export interface StoredReport {
  host_uuid: string;
  sequence: number;
  report_type: 'inventory' | 'status';
  received_at: string;
  claim: SignedClaim;
}

export interface EnrollToken {
  id: string;
  /** SHA-256 hex of the token; the token itself is shown once and never stored. */
  hash: string;
  label: string;
  uses_left: number;
  uses_total: number;
  expires_at: string;
  created_at: string;
  revoked_at: string | null;
}

export type TokenVerdict = 'OK' | 'UNKNOWN' | 'EXPIRED' | 'USED_UP' | 'REVOKED';

export interface QueuedAction {
  id: string;
  host_key: string;
  action: SignedAction;
  queued_by: string;
  queued_at: string;
  not_after: string;
  /** null while pending. */
  outcome: ActionOutcome | null;
}

export interface AcceptInput {
  key: string;
  uuid: string;
  fingerprint: string;
  sequence: number;
  at: string;
  hostname: string;
}

export interface RegisterInput extends AcceptInput {
  certificate: string;
  claim: SignedClaim;
}

export interface StatusInput extends AcceptInput {
  /** null for a poll: only the sequence and last_seen move. */
  claim: SignedClaim | null;
  /** The claim only sends the state's hash (unchanged): keep it in history, keep the stored state. */
  keepState?: boolean;
}

export type AcceptResult =
  { ok: true; created: boolean } | { ok: false; reason: 'REPLAY' | 'CERT_CONFLICT' | 'CERT_IN_USE' | 'UNKNOWN_HOST' | 'SIGNER_MISMATCH'; last?: number };

export interface PruneResult {
  reports: number;
  hosts: number;
}

export interface FleetStore {
  readonly kind: 'files' | 'postgres';
  getHost(key: string): Promise<HostRecord | undefined>;
  getTombstone(key: string): Promise<Tombstone | undefined>;
  /** Atomic: UUID free or pinned to this fingerprint, fingerprint owning no other UUID, sequence above the last (and the tombstone's). */
  register(input: RegisterInput): Promise<AcceptResult>;
  /** Atomic: host known with this fingerprint and sequence above the last. */
  acceptStatus(input: StatusInput): Promise<AcceptResult>;
  /** Forgets a host, keeping a tombstone. False when unknown. */
  forget(key: string, at: string): Promise<boolean>;
  listHosts(q: HostQuery): Promise<HostPage>;
  countHosts(): Promise<number>;
  packageStats(): Promise<PackageStat[]>;
  packageHosts(name: string, state: PackageState | undefined, limit: number, after?: string): Promise<HostPage>;
  exportHosts(): AsyncIterable<HostSummary>;
  reportHistory(key: string, limit: number): Promise<StoredReport[]>;

  addEnrollToken(t: EnrollToken): Promise<void>;
  listEnrollTokens(): Promise<EnrollToken[]>;
  revokeEnrollToken(id: string, at: string): Promise<boolean>;
  /** Atomic: checks and takes one use. */
  useEnrollToken(hash: string, now: Date): Promise<TokenVerdict>;

  queueAction(a: QueuedAction): Promise<void>;
  pendingActions(key: string, now: Date): Promise<SignedAction[]>;
  recordOutcomes(key: string, outcomes: readonly ActionOutcome[]): Promise<void>;
  listActions(limit: number, hostKey?: string): Promise<QueuedAction[]>;

  /** Retention: reports older than keepReportsMs, hosts not seen for expireHostsMs (tombstoned). */
  prune(now: Date, keepReportsMs: number | null, expireHostsMs: number | null): Promise<PruneResult>;
  /**
   * B2 audit lines kept by the store too (PostgreSQL: table wg_audit, so instances behind one
   * load balancer share one audit trail). Absent: the audit file in the data dir is the trail.
   */
  recordAudit?(line: { at: string; event: string; host_uuid?: string } & Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}
