// What a host reports about itself (W-G3 `inventory`, `update-status`): system facts
// and the state of its installed packages (W-G1, W-G2). The builders are pure; only
// systemFacts() asks the OS. Every value is a string, an integer or null so the
// report signs identically under Python's JSON (no floats, source notes §6.3).
import os from 'node:os';
import type { InstalledRow } from './db/types.js';

export interface PackageReport {
  package: string;
  version: string;
  install_status: string;
  /** WaptError code of the last failure (ERROR rows). */
  error_code: string | null;
  install_date: string | null;
  last_audit_status: string | null;
  last_audit_on: string | null;
  held: boolean;
  explicit: boolean;
}

export interface SystemFacts {
  hostname: string;
  os: { platform: string; type: string; release: string; version: string; arch: string };
  node_version: string;
}

export interface Inventory extends SystemFacts {
  /** null only in the local `inventory` printout of a host without a UUID. */
  host_uuid: string | null;
  wapt_get_version: string;
  packages: PackageReport[];
}

export interface StatusReport {
  host_uuid: string;
  hostname: string;
  wapt_get_version: string;
  packages: PackageReport[];
  counts: Record<string, number>;
}

export function systemFacts(): SystemFacts {
  return {
    hostname: os.hostname(),
    os: { platform: process.platform, type: os.type(), release: os.release(), version: os.version(), arch: process.arch },
    node_version: process.version,
  };
}

export function packageReports(rows: readonly InstalledRow[]): PackageReport[] {
  return [...rows]
    .sort((a, b) => (a.package < b.package ? -1 : a.package > b.package ? 1 : 0))
    .map((r) => ({
      package: r.package,
      version: r.version,
      install_status: r.install_status,
      error_code: r.error_code,
      install_date: r.install_date,
      last_audit_status: r.last_audit_status,
      last_audit_on: r.last_audit_on,
      held: r.held,
      explicit: r.explicit_by !== null,
    }));
}

/** install_status → number of packages, plus AUDIT-<status> for audited packages. */
export function statusCounts(packages: readonly PackageReport[]): Record<string, number> {
  const counts: Record<string, number> = {};
  const add = (k: string) => {
    counts[k] = (counts[k] ?? 0) + 1;
  };
  for (const p of packages) {
    add(p.install_status);
    if (p.last_audit_status) add(`AUDIT-${p.last_audit_status}`);
  }
  return counts;
}

export function buildInventory(hostUuid: string | null, facts: SystemFacts, waptGetVersion: string, rows: readonly InstalledRow[]): Inventory {
  return { host_uuid: hostUuid, ...facts, wapt_get_version: waptGetVersion, packages: packageReports(rows) };
}

export function buildStatusReport(hostUuid: string, hostname: string, waptGetVersion: string, rows: readonly InstalledRow[]): StatusReport {
  const packages = packageReports(rows);
  return { host_uuid: hostUuid, hostname, wapt_get_version: waptGetVersion, packages, counts: statusCounts(packages) };
}
