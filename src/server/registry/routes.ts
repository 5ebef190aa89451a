// The management side of `serve --data-dir` (off by default): agent endpoints open to
// hosts (agent-api.ts), admin endpoints behind B2 roles (admin-api.ts), the dashboard.
// Every admin request, registration and forget goes to the audit log; every error is
// JSON with a stable code, and nothing a client sends can produce a 500.
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdminAuth, type Principal, type Role } from '../admin/auth.js';
import { AuditLog, type AuditEntry } from '../admin/audit-log.js';
import { renderPage, DASHBOARD_CSP } from '../dashboard/index.js';
import type { RelayedKind } from '../../protocol/index.js';
import { openStore, type FleetStore } from '../store/index.js';
import { adminApi } from './admin-api.js';
import { UploadRefused, type Publisher } from '../publisher.js';
import type { HostPackagePublisher } from '../host-package-upload.js';
import { agentApi } from './agent-api.js';
import { ApiError, DEFAULT_MAX_BODY, readJsonBody, sendError, sendJson } from './http.js';
import { queryObject } from './schemas.js';
import { DEFAULT_MAX_CLAIM_AGE_SECS } from './verify-claim.js';

export interface ManagementOptions {
  dataDir: string;
  /** postgres://… for the PostgreSQL store; absent: files in dataDir. */
  db?: string;
  /** Shared secret (legacy) a host may present to register; compared in constant time. */
  registrationToken?: string;
  openRegistration?: boolean;
  adminTokensFile?: string;
  /** True when the TLS layer checks client certificates against --admin-ca. */
  adminCa?: boolean;
  maxClaimAgeSecs?: number;
  maxBodyBytes?: number;
  pollMaxSecs?: number;
  now?: () => Date;
  /** One line per accepted or refused report (never carries a token). */
  log?: (line: string) => void;
  onAccepted?: (kind: RelayedKind, body: Record<string, unknown>) => Promise<void>;
  /** Open store to use (tests, relay); otherwise opened from dataDir/db. */
  store?: FleetStore;
  /** Package uploads (PUT /api/v1/packages/<file>.wapt, role admin); absent: refused with NO_INDEX_KEY. */
  publisher?: Publisher;
  /** Host package uploads (PUT /api/v1/host-packages/<uuid>.wapt, role admin); absent: refused with NO_HOST_REPO. */
  hostPublisher?: HostPackagePublisher;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface Management {
  handler: Handler;
  /** Set by the relay: called with every accepted report body, before the host gets its answer. */
  hooks: { onAccepted?: (kind: RelayedKind, body: Record<string, unknown>) => Promise<void> };
  store: FleetStore;
  auth: AdminAuth;
  audit: AuditLog;
  close(): Promise<void>;
}

export const API_PREFIX = '/api/';
/** Open to hosts: each request is signed by the host key (agent-api.ts); every other API path is an admin path. */
const AGENT_PATHS = ['/api/v1/register', '/api/v1/status', '/api/v1/poll', '/api/v1/unregister'];
export const DASHBOARD_PATH = '/dashboard';

/** Paths the management handler owns once enabled (they shadow files of those names). */
export function isManagementPath(path: string): boolean {
  return path.startsWith(API_PREFIX) || path === '/api' || path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`);
}

/** Log-safe: the path is whatever the client sent. */
function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

export async function createManagementHandler(opts: ManagementOptions): Promise<Management> {
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => undefined);
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const store = opts.store ?? (await openStore({ dataDir: opts.dataDir, db: opts.db }));
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 }); // the audit log lives here whatever the store
  const audit = await AuditLog.open(opts.dataDir, now, store);
  const auth = new AdminAuth({ tokensFile: opts.adminTokensFile, adminCa: opts.adminCa, onWarning: log });
  await auth.refresh();
  const agent = agentApi({
    store,
    audit,
    registrationToken: opts.registrationToken,
    openRegistration: opts.openRegistration,
    maxClaimAgeSecs: opts.maxClaimAgeSecs ?? DEFAULT_MAX_CLAIM_AGE_SECS,
    now,
    log,
    onAccepted: (kind, body) => hooks.onAccepted?.(kind, body) ?? Promise.resolve(),
    pollMaxSecs: opts.pollMaxSecs ?? 30,
  });
  const admin = adminApi(store, now);
  const hooks: Management['hooks'] = { onAccepted: opts.onAccepted };
  let closing = false;

  async function route(req: IncomingMessage, res: ServerResponse, path: string, search: string, who: { p: Principal | null }): Promise<void> {
    const method = req.method ?? 'GET';
    const only = (...m: string[]) => {
      if (!m.includes(method)) throw new ApiError(405, 'METHOD_NOT_ALLOWED', `use ${m.join(' or ')}`, { allow: m.join(', ') });
    };
    const need = async (role: Role) => (who.p = await auth.require(req, role));
    const remote = req.socket.remoteAddress ?? '-';

    if (AGENT_PATHS.includes(path)) {
      only('POST');
      const body = await readJsonBody(req, maxBody);
      if (path === '/api/v1/register') {
        // a relay forwards registrations with its own credential (role operate)
        const relay = req.headers.authorization ? await auth.require(req, 'operate') : null;
        return sendJson(res, ...(await agent.register(body, relay, remote)));
      }
      if (path === '/api/v1/status') return sendJson(res, ...(await agent.status(body)));
      if (path === '/api/v1/unregister') return sendJson(res, ...(await agent.unregister(body, remote)));
      return sendJson(res, ...(await agent.poll(body, () => closing || req.socket.destroyed)));
    }
    if (path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`)) {
      only('GET');
      await need('view');
      const page = await renderPage(store, path.slice(DASHBOARD_PATH.length) || '/', queryObject(search), now());
      res.writeHead(page.status, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(page.html),
        'cache-control': 'no-store',
        'content-security-policy': DASHBOARD_CSP,
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
      });
      res.end(page.html);
      return;
    }
    if (path === '/api/v1/hosts') {
      only('GET');
      await need('view');
      return sendJson(res, 200, await admin.hosts(queryObject(search)));
    }
    const one = /^\/api\/v1\/hosts\/([^/]+)$/.exec(path);
    if (one) {
      only('GET', 'DELETE');
      if (method === 'DELETE') {
        const p = await need('admin');
        const key = await admin.forget(one[1]!);
        await audit.append({ event: 'forget', host_uuid: key, who: p.name, role: p.role, remote });
        return sendJson(res, 200, { host_uuid: key, forgotten: true });
      }
      await need('view');
      return sendJson(res, 200, await admin.host(one[1]!));
    }
    if (path === '/api/v1/packages') {
      only('GET');
      await need('view');
      return sendJson(res, 200, { packages: await admin.packages() });
    }
    const pkg = /^\/api\/v1\/packages\/([^/]+)\/hosts$/.exec(path);
    if (pkg) {
      only('GET');
      await need('view');
      let name: string;
      try {
        name = decodeURIComponent(pkg[1]!);
      } catch {
        throw new ApiError(400, 'SCHEMA_INVALID', 'bad escape in the package name');
      }
      return sendJson(res, 200, await admin.packageHosts(name, queryObject(search)));
    }
    if (path === '/api/v1/export.ndjson') {
      only('GET');
      await need('view');
      return admin.exportNdjson(res);
    }
    if (path === '/api/v1/actions') {
      only('GET', 'POST');
      if (method === 'GET') {
        await need('view');
        return sendJson(res, 200, { actions: await admin.actions() });
      }
      const p = await need('operate');
      const action = await admin.queueAction(await readJsonBody(req, maxBody), p.name);
      await audit.append({
        event: 'action-queued',
        host_uuid: action.host_uuid,
        who: p.name,
        role: p.role,
        remote,
        detail: { id: action.id, action: action.action },
      });
      return sendJson(res, 201, { queued: true, id: action.id, host_uuid: action.host_uuid });
    }
    const upload = /^\/api\/v1\/packages\/([^/]+\.wapt)$/i.exec(path);
    if (upload) {
      only('PUT');
      const p = await need('admin');
      return uploadPackage(req, res, upload[1]!, search, p, remote);
    }
    const hostUpload = /^\/api\/v1\/host-packages\/([^/]+\.wapt)$/i.exec(path);
    if (hostUpload) {
      only('PUT');
      const p = await need('admin');
      return uploadHostPackage(req, res, hostUpload[1]!, p, remote);
    }
    throw new ApiError(404, 'NOT_FOUND', 'no such API endpoint');
  }

  /**
   * One answer for both upload paths: accepted (audited with what it did) or refused with
   * one of our own error codes (PACKAGE_EXISTS, SIGNATURE_INVALID…, audited, connection
   * closed), so upload-package and edit-host exit as a local check would.
   */
  async function answerUpload<R extends { status: string }>(
    res: ServerResponse,
    p: Principal,
    remote: string,
    file: string,
    event: 'package-upload' | 'host-package-upload',
    accept: () => Promise<R>,
    audited: (r: R) => Pick<AuditEntry, 'host_uuid' | 'detail'>,
  ): Promise<void> {
    try {
      const r = await accept();
      await audit.append({ event, who: p.name, role: p.role, remote, ...audited(r) });
      return sendJson(res, r.status === 'unchanged' ? 200 : 201, r);
    } catch (err) {
      if (!(err instanceof UploadRefused)) throw err;
      await audit.append({ event: `${event}-refused`, who: p.name, role: p.role, remote, detail: { file, code: err.code } });
      return sendJson(res, err.status, { code: err.code, message: err.message }, { connection: 'close' });
    }
  }

  /** edit-host --server: the host publisher checks it as the agent will, then puts it in place (host-package-upload.ts). */
  function uploadHostPackage(req: IncomingMessage, res: ServerResponse, filename: string, p: Principal, remote: string): Promise<void> {
    return answerUpload(
      res,
      p,
      remote,
      filename,
      'host-package-upload',
      () => {
        if (!opts.hostPublisher) throw new UploadRefused(409, 'NO_HOST_REPO', 'this serve has no host repository (--host-repo): host package uploads are off');
        return opts.hostPublisher.accept(req, filename);
      },
      (r) => ({ host_uuid: r.package, detail: { status: r.status, version: r.version } }),
    );
  }

  /** upload-package --to https://…: the publisher verifies, stores, re-indexes and re-signs (publisher.ts). */
  function uploadPackage(req: IncomingMessage, res: ServerResponse, segment: string, search: string, p: Principal, remote: string): Promise<void> {
    let filename: string;
    try {
      filename = decodeURIComponent(segment);
    } catch {
      throw new ApiError(400, 'SCHEMA_INVALID', 'bad escape in the package file name');
    }
    const force = queryObject(search).force === '1';
    return answerUpload(
      res,
      p,
      remote,
      filename,
      'package-upload',
      () => {
        if (!opts.publisher?.enabled) throw new UploadRefused(409, 'NO_INDEX_KEY', 'this serve holds no index key (--index-key/--index-cert): uploads are off');
        return opts.publisher.accept(req, filename, force);
      },
      (r) => ({ detail: { file: filename, status: r.status, force } }),
    );
  }

  const handler: Handler = (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const search = q === -1 ? '' : url.slice(q + 1);
    const who: { p: Principal | null } = { p: null };
    const isAdminPath = !AGENT_PATHS.includes(path);
    if (isAdminPath) {
      // B2: every admin request is audited, whether it was allowed or not
      res.once('finish', () => {
        void audit
          .append({
            event: 'admin',
            who: who.p?.name,
            role: who.p?.role,
            method: req.method,
            path: printable(url),
            status: res.statusCode,
            remote: req.socket.remoteAddress,
          })
          .catch((err: Error) => log(`audit log write failed: ${err.message}`));
      });
    }
    route(req, res, path, search, who).catch((err: unknown) => {
      const api =
        err instanceof ApiError
          ? err
          : (err as Error)?.name === 'StoreUnavailable'
            ? new ApiError(503, 'STORE_UNAVAILABLE', 'the database is unavailable; try again shortly', { 'retry-after': '5' })
            : new ApiError(500, 'INTERNAL', 'internal error; see the server log');
      if (!(err instanceof ApiError)) log(`management API error on ${req.method} ${printable(path)}: ${(err as Error)?.stack ?? String(err)}`);
      else if (api.status !== 404 && api.status !== 405) log(`refused ${req.method} ${printable(path)}: ${api.status} ${api.code}`);
      if (res.headersSent) res.destroy();
      else sendError(res, api);
    });
  };

  return {
    handler,
    hooks,
    store,
    auth,
    audit,
    async close() {
      closing = true;
      await audit.close();
      if (!opts.store) await store.close();
    },
  };
}
