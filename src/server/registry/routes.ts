// The management API of `serve --data-dir` (off by default):
//   POST /api/v1/register  {host_uuid, certificate, token?, claim}  signed inventory
//   POST /api/v1/status    {claim}                                  signed status report
//   GET  /api/v1/hosts     summaries;  GET /api/v1/hosts/<uuid>  the record with its claims
//   GET  /dashboard        HTML
// A host's first registration pins its certificate; afterwards only that certificate may
// speak for the host UUID, each report's `sequence` must grow (no replay), and its
// signature_date must lie within the clock-skew window (source notes §10).
import { createHash, timingSafeEqual, type X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REPORT_ATTRIBUTES, type SignedClaim } from '../../protocol/index.js';
import { fingerprintSha256, parseCertificates, certificateToPem } from '../../crypto/index.js';
import { DASHBOARD_CSP, renderDashboard } from '../dashboard.js';
import { ApiError, DEFAULT_MAX_BODY, isPlainObject, malformed, readJsonBody, sendError, sendJson } from './http.js';
import { HostStore, hostKey, type HostRecord } from './store.js';
import { summarizeHosts } from './summary.js';
import { DEFAULT_MAX_CLAIM_AGE_SECS, verifyClaim } from './verify-claim.js';

export interface ManagementOptions {
  dataDir: string;
  /** Shared secret a host must present to register; compared in constant time. */
  registrationToken?: string;
  /** Without a token, registration is refused unless this is set. */
  openRegistration?: boolean;
  maxClaimAgeSecs?: number;
  maxBodyBytes?: number;
  now?: () => Date;
  /** One line per accepted or refused report (never carries a token). */
  log?: (line: string) => void;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export const API_PREFIX = '/api/';
export const DASHBOARD_PATH = '/dashboard';

/** Paths the management handler owns once enabled (they shadow files of those names). */
export function isManagementPath(path: string): boolean {
  return path.startsWith(API_PREFIX) || path === '/api' || path === DASHBOARD_PATH || path === `${DASHBOARD_PATH}/`;
}

/** Log-safe: the path is whatever the client sent. */
function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

function tokenMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  // Hash both first: timingSafeEqual needs equal lengths and must not leak the length.
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function sequenceOf(claim: SignedClaim): number {
  const s = claim.sequence;
  if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 1) throw malformed('claim.sequence must be a positive integer');
  return s;
}

function checkReport(claim: SignedClaim, type: 'inventory' | 'status', uuid: string): number {
  if (claim.report_type !== type) throw new ApiError(403, 'WRONG_REPORT_TYPE', `this endpoint takes report_type "${type}" claims`);
  if (claim.host_uuid !== uuid) throw new ApiError(403, 'HOST_MISMATCH', 'the claim names another host_uuid');
  return sequenceOf(claim);
}

function notReplayed(seq: number, rec: HostRecord): void {
  if (seq <= rec.last_sequence) {
    throw new ApiError(409, 'REPLAY', `sequence ${seq} is not above the last one accepted (${rec.last_sequence}): replayed or out-of-order report`);
  }
}

function presentedCertificate(pem: unknown): X509Certificate {
  if (typeof pem !== 'string') throw malformed('certificate must be a PEM string');
  let certs: X509Certificate[];
  try {
    certs = parseCertificates(pem);
  } catch {
    throw malformed('certificate is not a PEM certificate');
  }
  if (certs.length !== 1) throw malformed("certificate must hold exactly one certificate (the host's own)");
  // WAPT claims are RSA PKCS#1 v1.5: an EC key would make verify() mean something else
  if (certs[0]!.publicKey.asymmetricKeyType !== 'rsa') throw new ApiError(403, 'CERT_INVALID', 'the host certificate must carry an RSA key');
  return certs[0]!;
}

export async function createManagementHandler(opts: ManagementOptions): Promise<Handler> {
  const store = await HostStore.open(opts.dataDir);
  const now = opts.now ?? (() => new Date());
  const maxAgeSecs = opts.maxClaimAgeSecs ?? DEFAULT_MAX_CLAIM_AGE_SECS;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const log = opts.log ?? (() => undefined);
  const verifyOpts = (certificate: X509Certificate) => ({ certificate, required: REPORT_ATTRIBUTES, maxAgeSecs, now: now() });

  async function register(req: IncomingMessage): Promise<[number, unknown]> {
    const body = await readJsonBody(req, maxBody);
    const key = hostKey(body.host_uuid);
    if (!key) throw malformed('host_uuid must be letters, digits, ".", "_" or "-" (at most 128)');
    const uuid = body.host_uuid as string;
    if (opts.registrationToken !== undefined) {
      if (!tokenMatches(body.token, opts.registrationToken)) throw new ApiError(401, 'BAD_TOKEN', 'missing or wrong registration token');
    } else if (!opts.openRegistration) {
      throw new ApiError(403, 'REGISTRATION_CLOSED', 'this server accepts no registration');
    }
    const cert = presentedCertificate(body.certificate);
    const claim = verifyClaim(body.claim, verifyOpts(cert));
    const seq = checkReport(claim, 'inventory', uuid);
    const fp = fingerprintSha256(cert);
    return store.exclusive(key, async () => {
      const old = await store.get(key);
      if (old && old.fingerprint !== fp) {
        throw new ApiError(409, 'CERT_CONFLICT', 'this host UUID is registered with another certificate; the server admin must forget it first');
      }
      if (old) notReplayed(seq, old);
      const at = now().toISOString();
      await store.put({
        host_uuid: uuid,
        certificate: certificateToPem(cert),
        fingerprint: fp,
        registered_at: old?.registered_at ?? at,
        last_seen: at,
        last_sequence: seq,
        hostname: typeof claim.hostname === 'string' ? claim.hostname : (old?.hostname ?? ''),
        inventory: claim,
        inventory_at: at,
        status: old?.status ?? null,
        status_at: old?.status_at ?? null,
      });
      log(`${old ? 're-registered' : 'registered'} host ${key} (certificate ${fp.slice(0, 16)}…)`);
      return [old ? 200 : 201, { host_uuid: uuid, fingerprint: fp, registered: !old, sequence: seq }];
    });
  }

  async function status(req: IncomingMessage): Promise<[number, unknown]> {
    const body = await readJsonBody(req, maxBody);
    if (!isPlainObject(body.claim)) throw malformed('claim must be a JSON object');
    const key = hostKey(body.claim.host_uuid);
    if (!key) throw malformed('claim.host_uuid is missing or unusable');
    const uuid = body.claim.host_uuid as string;
    return store.exclusive(key, async () => {
      const rec = await store.get(key);
      if (!rec) throw new ApiError(403, 'UNKNOWN_HOST', 'this host is not registered: run `wapt-get register` first');
      const claim = verifyClaim(body.claim, verifyOpts(parseCertificates(rec.certificate)[0]!));
      const seq = checkReport(claim, 'status', uuid);
      notReplayed(seq, rec);
      const at = now().toISOString();
      const hostname = typeof claim.hostname === 'string' ? claim.hostname : rec.hostname;
      await store.put({ ...rec, hostname, last_seen: at, last_sequence: seq, status: claim, status_at: at });
      return [200, { host_uuid: rec.host_uuid, accepted: true, sequence: seq }];
    });
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    const only = (m: string) => {
      if (method !== m) throw new ApiError(405, 'METHOD_NOT_ALLOWED', `use ${m}`, { allow: m });
    };
    if (path === DASHBOARD_PATH || path === `${DASHBOARD_PATH}/`) {
      only('GET');
      const { hosts, unreadable } = await store.list();
      const html = renderDashboard(summarizeHosts(hosts, now()), now(), unreadable);
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(html),
        'cache-control': 'no-store',
        'content-security-policy': DASHBOARD_CSP,
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
      });
      res.end(html);
      return;
    }
    if (path === '/api/v1/register' || path === '/api/v1/status') {
      only('POST');
      const [code, data] = path.endsWith('/register') ? await register(req) : await status(req);
      return sendJson(res, code, data);
    }
    if (path === '/api/v1/hosts') {
      only('GET');
      const { hosts, unreadable } = await store.list();
      return sendJson(res, 200, { hosts: summarizeHosts(hosts, now()), unreadable });
    }
    const one = /^\/api\/v1\/hosts\/([^/]+)$/.exec(path);
    if (one) {
      only('GET');
      let key: string | null = null;
      try {
        key = hostKey(decodeURIComponent(one[1]!));
      } catch {
        throw malformed('bad escape in the host UUID');
      }
      const rec = key ? await store.get(key) : undefined;
      if (!rec) throw new ApiError(404, 'NOT_FOUND', 'no such host');
      return sendJson(res, 200, rec);
    }
    throw new ApiError(404, 'NOT_FOUND', 'no such API endpoint');
  }

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    route(req, res, path).catch((err: unknown) => {
      const api = err instanceof ApiError ? err : new ApiError(500, 'INTERNAL', 'internal error; see the server log');
      if (!(err instanceof ApiError)) log(`management API error on ${req.method} ${printable(path)}: ${(err as Error)?.message ?? String(err)}`);
      else if (api.status !== 404 && api.status !== 405) log(`refused ${req.method} ${printable(path)}: ${api.status} ${api.code}`);
      if (res.headersSent) res.destroy();
      else sendError(res, api);
    });
  };
}
