import type { ControlFields } from '../../package/index.js';
// Data shapes of the resolver (objects in, plan out; no I/O anywhere in this directory).

/** One index entry (W-F1) as offered by one repository. */
export interface Candidate {
  control: ControlFields;
  repo: string;
  repoPriority: number;
  filename: string;
  size?: number;
  sha256?: string;
  md5sum?: string;
}

/** One row of the local DB (W-G1). */
export interface InstalledPkg {
  package: string;
  version: string;
  /** W-G2 install_status: OK, ERROR, … (ERROR is retried by upgrade). */
  status: string;
  explicit: boolean;
  held: boolean;
  dependsBy?: string | null;
  /**
   * A removal the admin asked for has not completed (uninstall failed or was killed):
   * `upgrade` plans the removal again and never upgrades or re-installs it; only an
   * explicit `install NAME` turns it back into an install.
   */
  pendingRemoval?: boolean;
  /** The installed control's `depends` (the DB stores it); used to warn about dependents on remove. */
  depends?: string;
}

export interface Environment {
  architecture: string;
  /** Accepted maturities; '' in the list accepts entries without maturity; [] accepts every maturity. */
  maturities: string[];
  /** Host locales in order of preference; [] accepts every locale. */
  locales: string[];
  os: 'linux' | 'windows' | 'darwin';
  osVersion: string;
  waptVersion: string;
  now: Date;
}

export interface ResolveRequest {
  kind: 'install' | 'upgrade' | 'remove';
  /** Requirement strings; for upgrade, [] means every installed package plus hostPackages. */
  names: string[];
  /** W-F4 host/unit/profile package names that apply; explicit requests of an implicit upgrade. */
  hostPackages?: string[];
  /** install: reinstall requested packages even when installed. remove: ignore names not installed. */
  force?: boolean;
}

export interface PlanStep {
  action: 'install' | 'upgrade' | 'remove' | 'reinstall';
  package: string;
  fromVersion?: string;
  toVersion?: string;
  candidate?: Candidate;
  /** 'requested' | 'host package' | 'dependency of X' | 'conflicts with X' | 'upgrade' | 'retry after ERROR' | 'retry pending removal' */
  reason: string;
  explicit: boolean;
}

export interface Plan {
  /** Explicitly requested packages not installed yet. */
  install: PlanStep[];
  /** Installed packages whose version changes or which are reinstalled (any reason). */
  upgrade: PlanStep[];
  /** Dependencies not installed yet, pulled in by the plan. */
  additional: PlanStep[];
  /** Requested removals and installed packages removed because a planned package conflicts with them. */
  remove: PlanStep[];
  skipped: { package: string; reason: string }[];
  unavailable: { request: string; reason: string }[];
  held: { package: string; reason: string }[];
  /** Things the person should know that change nothing (e.g. a removed package still has dependents). */
  warnings: string[];
  /** Execution order: removals first, then dependencies before dependents, ties by priority then name. */
  order: PlanStep[];
}

export type Eligibility = { ok: true } | { ok: false; reason: string };
