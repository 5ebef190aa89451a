// Shared HTML pieces of the dashboard: escaping, the page frame, tables. No scripts, no
// external assets; every value comes from host-signed reports, so all of it is escaped,
// and pages are served with a CSP that forbids scripts even if escaping were ever missed.
export const DASHBOARD_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'self'; frame-ancestors 'none'";

/** A host not seen for this long is marked stale. */
export const STALE_AFTER_SECS = 2 * 86400;

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

export const ageSecs = (iso: string, now: Date) => Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));

export function link(href: string, label: string): string {
  return `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`;
}

export interface Cell {
  html: string;
}
/** A cell already made of HTML (links); plain strings are escaped. */
export const raw = (html: string): Cell => ({ html });

export function table(id: string, head: readonly string[], rows: readonly { cls?: string; cells: readonly (string | Cell)[] }[], empty: string): string {
  const body = rows.length
    ? rows
        .map((r) => `<tr${r.cls ? ` class="${r.cls}"` : ''}>${r.cells.map((c) => `<td>${typeof c === 'string' ? escapeHtml(c) : c.html}</td>`).join('')}</tr>`)
        .join('\n')
    : `<tr><td colspan="${head.length}">${escapeHtml(empty)}</td></tr>`;
  return `<table id="${id}"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

const STYLE =
  'body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}' +
  'tr.bad{background:#fdd}tr.warn{background:#ffd}tr.stale td{color:#888}nav a{margin-right:1em}form{margin:.5em 0}';

export function page(title: string, body: string, now: Date): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>
<nav>${link('/dashboard', 'Hosts')}${link('/dashboard/packages', 'Packages')}${link('/dashboard/actions', 'Actions')}</nav>
<h1>${escapeHtml(title)}</h1>
<p class="asof">As of ${escapeHtml(now.toISOString())}. Everything shown comes from each host's signed reports.</p>
${body}
</body></html>
`;
}
