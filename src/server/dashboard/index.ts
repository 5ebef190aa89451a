// `/dashboard`: server-rendered pages (no build step, no scripts): hosts with status and
// last seen (stale ones marked), filters and search; a page per host; a page per package;
// queued actions and their outcomes.
import type { FleetStore, HostState, HostSummary } from '../store/index.js';
import { hostKey, summarizeHost } from '../store/index.js';
import { STALE_AFTER_SECS, ageSecs, escapeHtml, formatAge, link, page, raw, table } from './html.js';

export { DASHBOARD_CSP, escapeHtml, formatAge } from './html.js';

export interface Page {
  status: number;
  html: string;
}

const STATES: HostState[] = ['OK', 'ERROR', 'NEED-UPGRADE', 'UNKNOWN'];
const PAGE = 100;

function clean(v: string | undefined, max = 200): string | undefined {
  return v === undefined || v === '' ? undefined : v.slice(0, max);
}

function hostRow(h: HostSummary, now: Date) {
  const age = ageSecs(h.last_seen, now);
  const stale = age > STALE_AFTER_SECS;
  const cls = stale ? 'stale' : h.state === 'ERROR' ? 'bad' : h.state === 'NEED-UPGRADE' ? 'warn' : undefined;
  return {
    cls,
    cells: [
      raw(link(`/dashboard/host/${encodeURIComponent(h.host_uuid)}`, h.hostname || h.host_uuid)),
      h.host_uuid,
      h.state,
      h.os ?? '',
      h.last_seen,
      formatAge(age) + (stale ? ' (stale)' : ''),
      String(h.counts.total),
      String(h.counts.ok),
      String(h.counts.error),
      String(h.counts.need_upgrade),
      String(h.counts.audit_error),
    ],
  };
}

async function hostsPage(store: FleetStore, q: Record<string, string>, now: Date): Promise<Page> {
  const state = STATES.includes(q.status as HostState) ? (q.status as HostState) : undefined;
  const filters = { state, package: clean(q.package), q: clean(q.q) };
  const after = hostKey(q.after) ?? undefined;
  const res = await store.listHosts({ limit: PAGE, after, ...filters });
  const total = await store.countHosts();
  const opt = (s: string) => `<option value="${s}"${s === (state ?? '') ? ' selected' : ''}>${s || 'any status'}</option>`;
  const form = `<form method="get" action="/dashboard"><input name="q" placeholder="host or UUID" value="${escapeHtml(filters.q ?? '')}">
<input name="package" placeholder="package" value="${escapeHtml(filters.package ?? '')}">
<select name="status">${['', ...STATES].map(opt).join('')}</select> <button type="submit">Filter</button></form>`;
  const head = ['Host', 'UUID', 'Status', 'OS', 'Last seen (UTC)', 'Age', 'Packages', 'OK', 'ERROR', 'NEED-UPGRADE', 'Audit ERROR'];
  const params = new URLSearchParams(Object.entries({ q: filters.q, package: filters.package, status: state }).filter((e): e is [string, string] => !!e[1]));
  const next = res.next ? `<p>${link(`/dashboard?${params.toString()}${params.size ? '&' : ''}after=${encodeURIComponent(res.next)}`, 'Next page')}</p>` : '';
  return {
    status: 200,
    html: page(
      `Registered hosts (${total})`,
      form +
        table(
          'hosts',
          head,
          res.hosts.map((h) => hostRow(h, now)),
          total ? 'no host matches' : 'no host registered yet',
        ) +
        next,
      now,
    ),
  };
}

function pendingUpgrades(claim: Record<string, unknown> | null): { package: string; version: string }[] {
  const list = Array.isArray(claim?.pending_upgrades) ? (claim.pending_upgrades as Record<string, unknown>[]) : [];
  return list
    .filter((p) => typeof p === 'object' && p && typeof p.package === 'string')
    .map((p) => ({ package: String(p.package), version: String(p.version ?? '') }));
}

async function hostPage(store: FleetStore, segment: string, now: Date): Promise<Page> {
  let key: string | null = null;
  try {
    key = hostKey(decodeURIComponent(segment));
  } catch {
    key = null;
  }
  const rec = key ? await store.getHost(key) : undefined;
  if (!key || !rec) return { status: 404, html: page('No such host', '<p>This host is not registered.</p>', now) };
  const h = summarizeHost(rec);
  const inv = (rec.inventory ?? {}) as Record<string, unknown>;
  const facts = table(
    'inventory',
    ['Field', 'Value'],
    [
      ['UUID', h.host_uuid],
      ['Host name', h.hostname],
      ['Status', h.state],
      ['OS', h.os ?? ''],
      ['wapt-get', h.wapt_get_version ?? ''],
      ['Node', typeof inv.node_version === 'string' ? inv.node_version.slice(0, 40) : ''],
      ['Registered', h.registered_at],
      ['Last seen', `${h.last_seen} (${formatAge(ageSecs(h.last_seen, now))} ago)`],
      ['Certificate SHA-256', h.fingerprint],
    ].map((cells) => ({ cells })),
    '',
  );
  const pkgs = table(
    'packages',
    ['Package', 'Version', 'State', 'Install status', 'Error', 'Audit'],
    h.packages.map((p) => ({
      cls: p.state === 'ERROR' || p.last_audit_status === 'ERROR' ? 'bad' : p.state === 'NEED-UPGRADE' ? 'warn' : undefined,
      cells: [
        raw(link(`/dashboard/package/${encodeURIComponent(p.package)}`, p.package)),
        p.version,
        p.state,
        p.install_status,
        p.error_code ?? '',
        p.last_audit_status ?? '',
      ],
    })),
    'no package reported',
  );
  const pending = table(
    'pending',
    ['Package', 'Version'],
    pendingUpgrades(rec.status).map((p) => ({ cells: [p.package, p.version] })),
    'nothing pending',
  );
  const reports = await store.reportHistory(key, 20);
  const events = reports.flatMap((r) => (Array.isArray(r.claim.events) ? (r.claim.events as Record<string, unknown>[]) : []).slice(0, 50));
  const history = table(
    'reports',
    ['Received', 'Type', 'Sequence', 'Events'],
    reports.map((r) => ({ cells: [r.received_at, r.report_type, String(r.sequence), String(Array.isArray(r.claim.events) ? r.claim.events.length : 0)] })),
    'no report kept',
  );
  const ev = table(
    'events',
    ['At', 'Operation', 'Package', 'Version', 'Result', 'Error'],
    events.map((e) => ({
      cls: e.result === 'ERROR' ? 'bad' : undefined,
      cells: [e.at, e.op, e.package, e.version, e.result, e.error_code].map((v) => (typeof v === 'string' ? v.slice(0, 200) : '')),
    })),
    'no event reported',
  );
  const actions = await store.listActions(50, key);
  const acts = table(
    'actions',
    ['Queued', 'Action', 'Args', 'By', 'Outcome'],
    actions.map((a) => ({
      cells: [
        a.queued_at,
        a.action.action,
        a.action.args.join(' '),
        a.queued_by,
        a.outcome ? `${a.outcome.result}${a.outcome.error_code ? ` ${a.outcome.error_code}` : ''}` : 'pending',
      ],
    })),
    'no action',
  );
  return {
    status: 200,
    html: page(
      `Host ${h.hostname || h.host_uuid}`,
      `${facts}<h2>Packages</h2>${pkgs}<h2>Pending upgrades</h2>${pending}<h2>Recent events</h2>${ev}<h2>Report history</h2>${history}<h2>Actions</h2>${acts}`,
      now,
    ),
  };
}

async function packagesPage(store: FleetStore, now: Date): Promise<Page> {
  const stats = await store.packageStats();
  const rows = stats.map((s) => ({
    cls: s.ERROR ? 'bad' : undefined,
    cells: [
      raw(link(`/dashboard/package/${encodeURIComponent(s.package)}`, s.package)),
      s.version,
      String(s.OK),
      String(s.ERROR),
      String(s['NEED-UPGRADE']),
      String(s.pending),
    ],
  }));
  return {
    status: 200,
    html: page('Packages', table('package-stats', ['Package', 'Version', 'OK', 'ERROR', 'NEED-UPGRADE', 'pending'], rows, 'no package reported'), now),
  };
}

async function packagePage(store: FleetStore, segment: string, now: Date): Promise<Page> {
  let name: string;
  try {
    name = decodeURIComponent(segment).slice(0, 200);
  } catch {
    return { status: 400, html: page('Bad request', '<p>Bad escape in the package name.</p>', now) };
  }
  const stats = (await store.packageStats()).filter((s) => s.package === name);
  const counts = table(
    'deployment',
    ['Version', 'OK', 'ERROR', 'NEED-UPGRADE', 'pending'],
    stats.map((s) => ({ cells: [s.version, String(s.OK), String(s.ERROR), String(s['NEED-UPGRADE']), String(s.pending)] })),
    'no host has it',
  );
  const hosts = await store.packageHosts(name, undefined, PAGE);
  const list = table(
    'package-hosts',
    ['Host', 'Version', 'State', 'Error'],
    hosts.hosts.map((h) => {
      const p = h.packages.find((x) => x.package === name)!;
      return {
        cls: p.state === 'ERROR' ? 'bad' : undefined,
        cells: [raw(link(`/dashboard/host/${encodeURIComponent(h.host_uuid)}`, h.hostname || h.host_uuid)), p.version, p.state, p.error_code ?? ''],
      };
    }),
    'no host has it',
  );
  return { status: 200, html: page(`Package ${name}`, `<h2>Deployment by version</h2>${counts}<h2>Hosts</h2>${list}`, now) };
}

async function actionsPage(store: FleetStore, now: Date): Promise<Page> {
  const actions = await store.listActions(200);
  const rows = actions.map((a) => ({
    cls: a.outcome && a.outcome.result !== 'OK' ? 'bad' : undefined,
    cells: [
      a.queued_at,
      raw(link(`/dashboard/host/${encodeURIComponent(a.action.host_uuid)}`, a.action.host_uuid)),
      a.action.action,
      a.action.args.join(' '),
      a.queued_by,
      a.not_after,
      a.outcome ? `${a.outcome.result}${a.outcome.error_code ? ` ${a.outcome.error_code}` : ''}` : 'pending',
    ],
  }));
  return {
    status: 200,
    html: page('Actions', table('action-list', ['Queued', 'Host', 'Action', 'Args', 'By', 'Not after', 'Outcome'], rows, 'no action queued'), now),
  };
}

/** `sub` is the path below /dashboard ('/' for the host list). */
export async function renderPage(store: FleetStore, sub: string, q: Record<string, string>, now: Date): Promise<Page> {
  if (sub === '/' || sub === '') return hostsPage(store, q, now);
  if (sub === '/packages') return packagesPage(store, now);
  if (sub === '/actions') return actionsPage(store, now);
  const host = /^\/host\/([^/]+)$/.exec(sub);
  if (host) return hostPage(store, host[1]!, now);
  const pkg = /^\/package\/([^/]+)$/.exec(sub);
  if (pkg) return packagePage(store, pkg[1]!, now);
  return { status: 404, html: page('Not found', '<p>No such page.</p>', now) };
}
