// One line per host for lists, filters and the dashboard, from the stored record. The
// claims are signed by the host, not vouched for by us: every value is type-checked and
// bounded before it is shown. Pure; both backends use it.
import type { HostRecord, HostState, HostSummary, PackageRow, PackageState } from './types.js';

function text(v: unknown, max = 200): string | null {
  return typeof v === 'string' ? v.slice(0, max) : null;
}

function newest(rec: HostRecord): { claim: Record<string, unknown> | null; from: HostSummary['packages_from'] } {
  const s = rec.status_at ? Date.parse(rec.status_at) : -Infinity;
  const i = rec.inventory_at ? Date.parse(rec.inventory_at) : -Infinity;
  if (rec.status && Array.isArray(rec.status.packages) && s >= i) return { claim: rec.status, from: 'status' };
  if (rec.inventory) return { claim: rec.inventory, from: 'inventory' };
  return { claim: null, from: null };
}

/** Package names the host reports as pending upgrade (`pending_upgrades` of a status report). */
function pendingNames(claim: Record<string, unknown> | null): Set<string> {
  const list = Array.isArray(claim?.pending_upgrades) ? (claim.pending_upgrades as unknown[]) : [];
  return new Set(
    list.map((p) => (typeof p === 'object' && p !== null ? text((p as Record<string, unknown>).package, 200) : null)).filter((x): x is string => !!x),
  );
}

function stateOf(installStatus: string, pending: boolean): PackageState {
  if (installStatus === 'ERROR') return 'ERROR';
  if (pending) return 'NEED-UPGRADE';
  if (installStatus === 'OK') return 'OK';
  return 'pending';
}

export function summarizeHost(rec: HostRecord): HostSummary {
  const { claim, from } = newest(rec);
  const pending = pendingNames(claim);
  const counts = { total: 0, ok: 0, error: 0, need_upgrade: 0, pending: 0, audit_error: 0 };
  const packages: PackageRow[] = [];
  const list = Array.isArray(claim?.packages) ? (claim.packages as unknown[]).slice(0, 5000) : [];
  for (const p of list) {
    if (typeof p !== 'object' || p === null) continue;
    const row = p as Record<string, unknown>;
    const name = text(row.package);
    if (!name) continue;
    const installStatus = text(row.install_status, 40) ?? '';
    const state = stateOf(installStatus, pending.has(name));
    counts.total++;
    if (state === 'OK') counts.ok++;
    else if (state === 'ERROR') counts.error++;
    else if (state === 'NEED-UPGRADE') counts.need_upgrade++;
    else counts.pending++;
    if (row.last_audit_status === 'ERROR') counts.audit_error++;
    packages.push({
      package: name,
      version: text(row.version, 100) ?? '',
      state,
      install_status: installStatus,
      error_code: text(row.error_code, 60),
      last_audit_status: text(row.last_audit_status, 40),
    });
  }
  const inv = rec.inventory as Record<string, unknown> | null;
  const os = inv && typeof inv.os === 'object' && inv.os !== null ? (inv.os as Record<string, unknown>) : null;
  const osText = os ? [text(os.type, 40), text(os.release, 60), text(os.arch, 20)].filter(Boolean).join(' ') : null;
  const state: HostState = from === null ? 'UNKNOWN' : counts.error > 0 || counts.audit_error > 0 ? 'ERROR' : counts.need_upgrade > 0 ? 'NEED-UPGRADE' : 'OK';
  return {
    host_uuid: rec.host_uuid,
    hostname: text(rec.hostname) ?? '',
    fingerprint: rec.fingerprint,
    registered_at: rec.registered_at,
    last_seen: rec.last_seen,
    last_sequence: rec.last_sequence,
    state,
    os: osText || null,
    wapt_get_version: text(inv?.wapt_get_version, 40),
    packages_from: from,
    counts,
    packages,
  };
}

/** Does the host match the list filters (state, package, q)? */
export function matchesQuery(h: HostSummary, q: { state?: HostState; package?: string; q?: string }): boolean {
  if (q.state && h.state !== q.state) return false;
  if (q.package && !h.packages.some((p) => p.package === q.package)) return false;
  if (q.q) {
    const needle = q.q.toLowerCase();
    if (!h.hostname.toLowerCase().includes(needle) && !h.host_uuid.toLowerCase().includes(needle)) return false;
  }
  return true;
}
