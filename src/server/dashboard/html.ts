// `/dashboard`: a read-only HTML page of registered hosts. No scripts; every value
// comes from host-signed reports, so all of it is escaped, and the page is served
// with a CSP that forbids scripts even if escaping were ever missed. Pure.
import type { HostSummary } from './registry/summary.js';

export const DASHBOARD_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** 42 s, 5 min, 3 h, 2 d. */
export function formatAge(secs: number): string {
  if (secs < 60) return `${secs} s`;
  if (secs < 3600) return `${Math.floor(secs / 60)} min`;
  if (secs < 86400) return `${Math.floor(secs / 3600)} h`;
  return `${Math.floor(secs / 86400)} d`;
}

function row(h: HostSummary): string {
  const cells = [
    h.hostname,
    h.host_uuid,
    h.os ?? '',
    h.last_seen,
    formatAge(h.last_report_age_secs),
    String(h.packages.total),
    String(h.packages.ok),
    String(h.packages.error),
    String(h.packages.audit_error),
    h.packages_from ?? '',
  ];
  const cls = h.packages.error > 0 || h.packages.audit_error > 0 ? ' class="bad"' : '';
  return `<tr${cls}>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
}

export function renderDashboard(hosts: readonly HostSummary[], now: Date, unreadable: readonly string[] = []): string {
  const head = ['Host', 'UUID', 'OS', 'Last seen (UTC)', 'Last report', 'Packages', 'OK', 'ERROR', 'Audit ERROR', 'From'];
  const body = hosts.length === 0 ? `<tr><td colspan="${head.length}">no host registered yet</td></tr>` : hosts.map(row).join('\n');
  const warn = unreadable.length ? `<p class="bad">Unreadable host files: ${escapeHtml(unreadable.join(', '))}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wapt-get hosts</title>
<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}tr.bad{background:#fdd}</style>
</head><body>
<h1>Registered hosts (${hosts.length})</h1>
<p>As of ${escapeHtml(now.toISOString())}. Counts come from each host's latest signed report. JSON: <a href="/api/v1/hosts">/api/v1/hosts</a></p>
${warn}<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>
${body}
</tbody></table>
</body></html>
`;
}
