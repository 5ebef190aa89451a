// HTTP plumbing of the management API: one error type carrying the HTTP status and a
// stable API code, a capped JSON body reader, and JSON answers. Errors go out as
// {code, message}; messages never echo a token.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Stable codes of the API's error answers (the agent shows them; nothing parses messages). */
export type ApiCode =
  | 'MALFORMED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'TOO_LARGE'
  | 'BAD_TOKEN'
  | 'REGISTRATION_CLOSED'
  | 'BAD_SIGNATURE'
  | 'SIGNER_MISMATCH'
  | 'CERT_INVALID'
  | 'STALE_SIGNATURE'
  | 'HOST_MISMATCH'
  | 'WRONG_REPORT_TYPE'
  | 'UNKNOWN_HOST'
  | 'CERT_CONFLICT'
  | 'REPLAY'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'SCHEMA_INVALID'
  | 'AUTH_REQUIRED'
  | 'AUTH_INVALID'
  | 'ROLE_REQUIRED'
  | 'ADMIN_DISABLED'
  | 'ENROLL_TOKEN_UNKNOWN'
  | 'ENROLL_TOKEN_EXPIRED'
  | 'ENROLL_TOKEN_USED_UP'
  | 'ENROLL_TOKEN_REVOKED'
  | 'CERT_UUID_MISMATCH'
  | 'CERT_IN_USE'
  | 'HOST_FORGOTTEN'
  | 'HOST_PACKAGE_FORBIDDEN'
  | 'ACTION_INVALID'
  | 'STORE_UNAVAILABLE'
  | 'INTERNAL';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiCode,
    message: string,
    /** Extra response headers (Allow for 405). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const malformed = (message: string) => new ApiError(400, 'MALFORMED', message);

/** Request bodies larger than this are refused with 413 (a signed inventory is a few KiB). */
export const DEFAULT_MAX_BODY = 1024 * 1024;
/** After a 413 we keep draining this much so the client can read the answer, then cut. */
const DRAIN_LIMIT = 8 * 1024 * 1024;

function drainThenCut(req: IncomingMessage): void {
  let drained = 0;
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > DRAIN_LIMIT) req.socket.destroy();
  });
  req.resume();
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The parsed JSON object of a POST: 415 unless JSON, 413 beyond `max` bytes, 400 when not an object. */
export async function readJsonBody(req: IncomingMessage, max: number): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    drainThenCut(req);
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) {
    drainThenCut(req);
    throw new ApiError(413, 'TOO_LARGE', `the request body is larger than ${max} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const text = await new Promise<string>((resolve, reject) => {
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.off('data', onData);
        chunks.length = 0;
        drainThenCut(req);
        reject(new ApiError(413, 'TOO_LARGE', `the request body is larger than ${max} bytes`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw malformed('the body is not valid JSON');
  }
  if (!isPlainObject(body)) throw malformed('the body must be a JSON object');
  return body;
}

export function sendJson(res: ServerResponse, status: number, data: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(data, null, 2) + '\n';
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  // A body we did not read to the end: close the connection after answering.
  const extra = { ...err.headers, ...(err.status === 413 || err.status === 415 ? { connection: 'close' } : {}) };
  sendJson(res, err.status, { code: err.code, message: err.message }, extra);
}
