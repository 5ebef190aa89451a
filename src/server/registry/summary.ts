// One line per host for /api/v1/hosts and the dashboard, from the stored record. The
// claims are signed by the host, not vouched for by us: every value is type-checked
// and bounded before it is shown. Pure.
import type { HostRecord } from './store.js';

export interface HostSummary {
  host_uuid: string;
  hostname: string;
  fingerprint: string;
  registered_at: string;
  last_seen: string;
  /** Seconds since the last accepted report (register or status). */
  last_report_age_secs: number;
  /** Which report the package counts come from. */
  packages_from: 'status' | 'inventory' | null;
  packages: { total: number; ok: number; error: number; other: number; audit_error: number };
  os: string | null;
  wapt_get_version: string | null;
}

function text(v: unknown, max = 200): string | null {
  return typeof v === 'string' ? v.slice(0, max) : null;
}

function newest(rec: HostRecord): { claim: Record<string, unknown> | null; from: HostSummary['packages_from'] } {
  const s = rec.status_at ? Date.parse(rec.status_at) : -Infinity;
  const i = rec.inventory_at ? Date.parse(rec.inventory_at) : -Infinity;
  if (rec.status && s >= i) return { claim: rec.status, from: 'status' };
  if (rec.inventory) return { claim: rec.inventory, from: 'inventory' };
  return { claim: null, from: null };
}

export function summarizeHost(rec: HostRecord, now: Date): HostSummary {
  const { claim, from } = newest(rec);
  const packages = { total: 0, ok: 0, error: 0, other: 0, audit_error: 0 };
  const list = Array.isArray(claim?.packages) ? (claim.packages as unknown[]) : [];
  for (const p of list) {
    if (typeof p !== 'object' || p === null) continue;
    const row = p as Record<string, unknown>;
    packages.total++;
    if (row.install_status === 'OK') packages.ok++;
    else if (row.install_status === 'ERROR') packages.error++;
    else packages.other++;
    if (row.last_audit_status === 'ERROR') packages.audit_error++;
  }
  const inv = rec.inventory as Record<string, unknown> | null;
  const os = inv && typeof inv.os === 'object' && inv.os !== null ? (inv.os as Record<string, unknown>) : null;
  const osText = os ? [text(os.type, 40), text(os.release, 60), text(os.arch, 20)].filter(Boolean).join(' ') : null;
  return {
    host_uuid: rec.host_uuid,
    hostname: text(rec.hostname) ?? '',
    fingerprint: rec.fingerprint,
    registered_at: rec.registered_at,
    last_seen: rec.last_seen,
    last_report_age_secs: Math.max(0, Math.round((now.getTime() - Date.parse(rec.last_seen)) / 1000)),
    packages_from: from,
    packages,
    os: osText || null,
    wapt_get_version: text(inv?.wapt_get_version, 40),
  };
}

/** Most recently seen first. */
export function summarizeHosts(records: readonly HostRecord[], now: Date): HostSummary[] {
  return records.map((r) => summarizeHost(r, now)).sort((a, b) => b.last_seen.localeCompare(a.last_seen));
}
