// The admin endpoints (B2: each needs a role, see routes.ts):
//   GET    /api/v1/hosts?limit=&after=&status=&package=&q=   view     paginated summaries
//   GET    /api/v1/hosts/<uuid>                              view     record, summary, reports, actions
//   DELETE /api/v1/hosts/<uuid>                              admin    forget (a tombstone stays)
//   GET    /api/v1/packages                                  view     per package and version: OK/ERROR/NEED-UPGRADE/pending
//   GET    /api/v1/packages/<name>/hosts?status=             view
//   GET    /api/v1/export.ndjson                             view     one host summary per line
//   POST   /api/v1/actions  (a signed action)                operate  queue it for its host (F3A)
//   GET    /api/v1/actions                                   view
import type { ServerResponse } from 'node:http';
import { checkActionBody, type SignedAction } from '../../protocol/index.js';
import { hostKey, summarizeHost, type FleetStore, type HostState, type PackageState } from '../store/index.js';
import { ApiError, sendJson } from './http.js';
import { validate } from './schemas.js';

export const DEFAULT_PAGE = 100;

function limitOf(q: Record<string, string>): number {
  return Math.min(q.limit ? Number(q.limit) : DEFAULT_PAGE, 1000);
}

function keyOf(segment: string): string {
  let key: string | null = null;
  try {
    key = hostKey(decodeURIComponent(segment));
  } catch {
    /* bad escape */
  }
  if (!key) throw new ApiError(400, 'SCHEMA_INVALID', 'the path does not name a host UUID');
  return key;
}

export function adminApi(store: FleetStore, now: () => Date) {
  async function hosts(q: Record<string, string>) {
    validate('hostsQuery', q);
    return store.listHosts({ limit: limitOf(q), after: q.after?.toLowerCase(), state: q.status as HostState | undefined, package: q.package, q: q.q });
  }

  async function host(segment: string) {
    const key = keyOf(segment);
    const rec = await store.getHost(key);
    if (!rec) throw new ApiError(404, 'NOT_FOUND', 'no such host');
    const [reports, actions] = await Promise.all([store.reportHistory(key, 20), store.listActions(50, key)]);
    return { ...rec, summary: summarizeHost(rec), reports, actions };
  }

  async function forget(segment: string): Promise<string> {
    const key = keyOf(segment);
    if (!(await store.forget(key, now().toISOString()))) throw new ApiError(404, 'NOT_FOUND', 'no such host');
    return key;
  }

  async function packageHosts(name: string, q: Record<string, string>) {
    validate('packageHostsQuery', q);
    return store.packageHosts(name, q.status as PackageState | undefined, limitOf(q), q.after?.toLowerCase());
  }

  async function exportNdjson(res: ServerResponse): Promise<void> {
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    for await (const h of store.exportHosts()) {
      if (!res.write(JSON.stringify(h) + '\n')) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  }

  async function queueAction(body: Record<string, unknown>, by: string) {
    validate('action', body);
    let action;
    try {
      action = checkActionBody(body);
    } catch (err) {
      throw new ApiError(400, 'ACTION_INVALID', (err as Error).message);
    }
    if (Date.parse(action.not_after) < now().getTime()) throw new ApiError(400, 'ACTION_INVALID', 'the action expired before it was queued');
    const key = hostKey(action.host_uuid)!;
    if (!(await store.getHost(key))) throw new ApiError(404, 'NOT_FOUND', 'no such host');
    // The agent is the judge of the signature (F3A): the server holds no signing key and no trust decision.
    await store.queueAction({
      id: action.id,
      host_key: key,
      action: body as SignedAction,
      queued_by: by,
      queued_at: now().toISOString(),
      not_after: action.not_after,
      outcome: null,
    });
    return action;
  }

  return {
    hosts,
    host,
    forget,
    packages: () => store.packageStats(),
    packageHosts,
    exportNdjson,
    queueAction,
    actions: () => store.listActions(200),
    json: sendJson,
  };
}
