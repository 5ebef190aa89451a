// `wapt-get serve`: HTTPS assembly around the static handler. The repository is
// served at `/` and at `/wapt/`, the host repository (W-F4) at `/wapt-host/`, so
// `repo_url=https://HOST:PORT/wapt` finds its host packages at `<repo_url>-host`.
// Production stays on nginx (docs/nginx.md); this is for demos and small sites.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { isIP } from 'node:net';
import { WaptError } from '../errors.js';
import { createStaticHandler } from './static-files.js';
import { createManagementHandler, isManagementPath, sendError, ApiError, type Management, type ManagementOptions } from './registry/index.js';
import { hostPackageGate } from './host-packages.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface Mount {
  /** '/' or '/name/' (leading and trailing slash). */
  prefix: string;
  root: string;
}

export interface ServeOptions {
  repoDir: string;
  hostRepoDir?: string;
  /** Address to bind (default 127.0.0.1). */
  listen?: string;
  /** 0 picks a free port. */
  port: number;
  certPath: string;
  keyPath: string;
  /** One line per finished request (the CLI sends them to stderr). */
  log?: (line: string) => void;
  /** Enables the management API at /api/v1/ and the dashboard at /dashboard (off by default). */
  management?: Omit<ManagementOptions, 'log' | 'adminCa'>;
  /** PEM file of the CA that issues admin client certificates (mTLS on admin paths). */
  adminCaPath?: string;
}

export interface RunningServer {
  url: string;
  address: string;
  port: number;
  /** The management side when enabled (tests and the relay reach the store through it). */
  management: Management | null;
  /** Stops accepting, lets requests in flight finish, cuts the rest after graceMs. */
  close(graceMs?: number): Promise<void>;
}

export const HOST_PREFIX = '/wapt-host/';
export const REPO_ALIAS_PREFIX = '/wapt/';

/** Caching: the index must be revalidated (ETag) every time; packages change name when they change. */
export function cacheControlFor(path: string): string | null {
  if (/(^|\/)Packages$/.test(path)) return 'no-cache';
  if (/\.wapt$/i.test(path)) return 'public, max-age=3600';
  return null;
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The decoded segments, or null for malformed escapes, NUL, backslash or `..` (a 400, never a file). */
export function pathSegments(urlPath: string): string[] | null {
  const out: string[] = [];
  for (const raw of urlPath.split('/')) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (seg === '..' || seg.includes('\0') || seg.includes('\\') || seg.includes('/')) return null;
    if (seg !== '' && seg !== '.') out.push(seg);
  }
  return out;
}

/**
 * Longest-prefix mount, with the prefix stripped before the static handler sees the URL.
 * Dotfiles (the scan cache, temp files) are never served, as in docs/nginx.md.
 */
export function createRouter(mounts: readonly Mount[]): Handler {
  const sorted = [...mounts].sort((a, b) => b.prefix.length - a.prefix.length);
  const handlers = new Map(sorted.map((m) => [m.prefix, createStaticHandler(m.root)]));
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (!path.startsWith('/')) return plain(res, 400, 'bad request\n');
    const segments = pathSegments(path);
    if (segments === null) return plain(res, 400, 'bad request\n');
    if (segments.some((s) => s.startsWith('.'))) return plain(res, 404, 'not found\n');
    const mount = sorted.find((m) => path.startsWith(m.prefix));
    if (!mount) return plain(res, 404, 'not found\n');
    const rest = '/' + path.slice(mount.prefix.length);
    const cc = cacheControlFor(rest);
    if (cc) cacheOnSuccess(res, cc);
    res.setHeader('x-content-type-options', 'nosniff');
    req.url = rest;
    handlers.get(mount.prefix)!(req, res);
  };
}

/** Like nginx's add_header (without `always`): a 404 must not be cached as if it were the package. */
function cacheOnSuccess(res: ServerResponse, value: string): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
    if ((status >= 200 && status < 300) || status === 304) this.setHeader('cache-control', value);
    return (writeHead as (...a: unknown[]) => ServerResponse).call(this, status, ...rest);
  } as typeof res.writeHead;
}

/** Terminal-safe: a request line may hold anything the client sent. */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f"]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).slice(0, 2048);
}

/** Counts the body bytes actually written (a cut transfer logs what was sent, not the Content-Length). */
function countBytes(res: ServerResponse): () => number {
  let n = 0;
  const size = (chunk: unknown, enc?: unknown) =>
    typeof chunk === 'string'
      ? Buffer.byteLength(chunk, typeof enc === 'string' ? (enc as BufferEncoding) : 'utf8')
      : chunk instanceof Uint8Array
        ? chunk.length
        : 0;
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    n += size(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof res.write;
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (chunk !== undefined && typeof chunk !== 'function') n += size(chunk, rest[0]);
    return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as typeof res.end;
  return () => n;
}

function withLog(handler: Handler, log: (line: string) => void): Handler {
  return (req, res) => {
    const started = process.hrtime.bigint();
    const line = `${req.method ?? '-'} ${req.url ?? '-'}`; // before the router rewrites req.url
    const sent = countBytes(res);
    res.once('close', () => {
      const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
      const bytes = req.method === 'HEAD' ? 0 : sent();
      const done = res.writableFinished ? '' : ' (aborted)';
      log(`${req.socket.remoteAddress ?? '-'} "${printable(line)}" ${res.statusCode} ${bytes} ${ms}ms${done}`);
    });
    handler(req, res);
  };
}

function urlOf(address: string, port: number): string {
  const host = isIP(address) === 6 ? `[${address}]` : address;
  return `https://${host}:${port}/`;
}

function listenError(err: NodeJS.ErrnoException, address: string, port: number): WaptError {
  const where = `${address}:${port}`;
  if (err.code === 'EADDRINUSE')
    return new WaptError('ADDRESS_IN_USE', `${where} is already in use: choose another --port (0 picks a free one)`, { cause: err, detail: { address, port } });
  if (err.code === 'EACCES')
    return new WaptError('PERMISSION_DENIED', `not allowed to listen on ${where} (ports below 1024 need privileges)`, {
      cause: err,
      detail: { address, port },
    });
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
    return new WaptError('USAGE', `--listen ${address}: not an address of this host`, { cause: err, detail: { address } });
  return new WaptError('IO_ERROR', `cannot listen on ${where}: ${err.message}`, { cause: err, detail: { address, port } });
}

async function readTls(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new WaptError(what === 'key' ? 'KEY_UNREADABLE' : 'IO_ERROR', `cannot read TLS ${what} ${path}: ${(err as Error).message}`, {
      cause: err,
      detail: { path },
    });
  }
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const address = opts.listen ?? '127.0.0.1';
  const mounts: Mount[] = [
    { prefix: '/', root: opts.repoDir },
    { prefix: REPO_ALIAS_PREFIX, root: opts.repoDir },
  ];
  if (opts.hostRepoDir) mounts.push({ prefix: HOST_PREFIX, root: opts.hostRepoDir });
  const files = createRouter(mounts);
  const [cert, key, adminCa] = await Promise.all([
    readTls(opts.certPath, 'certificate'),
    readTls(opts.keyPath, 'key'),
    opts.adminCaPath ? readTls(opts.adminCaPath, 'admin CA') : Promise.resolve(undefined),
  ]);
  const mgmt = opts.management ? await createManagementHandler({ ...opts.management, adminCa: adminCa !== undefined, log: opts.log }) : null;
  const gate = mgmt ? hostPackageGate(mgmt) : null;
  const router: Handler = mgmt
    ? (req, res) => {
        const path = (req.url ?? '/').split('?')[0]!;
        if (isManagementPath(path)) return mgmt.handler(req, res);
        if (gate && path.startsWith(HOST_PREFIX)) {
          // F1A: a host package is served only to the host it names (or an admin)
          gate(req, path.slice(HOST_PREFIX.length)).then(
            () => files(req, res),
            (err: unknown) => sendError(res, err instanceof ApiError ? err : new ApiError(500, 'INTERNAL', 'internal error')),
          );
          return;
        }
        files(req, res);
      }
    : files;
  const handler = opts.log ? withLog(router, opts.log) : router;
  let server: Server;
  try {
    // Client certificates are asked for, never required: hosts present theirs for /wapt-host/,
    // admins theirs (checked against adminCa); everything else works without one.
    const mtls = mgmt ? { requestCert: true, rejectUnauthorized: false, ...(adminCa ? { ca: adminCa } : {}) } : {};
    server = createServer({ cert, key, minVersion: 'TLSv1.2', ...mtls }, handler);
  } catch (err) {
    throw new WaptError('KEY_CERT_MISMATCH', `cannot use ${opts.certPath} with ${opts.keyPath}: ${(err as Error).message}`, { cause: err });
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, address, opts.port));
    server.once('error', onError);
    server.listen(opts.port, address, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : opts.port;
  let closing: Promise<void> | null = null;
  return {
    url: urlOf(address, port),
    address,
    port,
    management: mgmt,
    close(graceMs = 5000) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          void (mgmt ? mgmt.close() : Promise.resolve()).finally(resolve);
        });
        server.closeIdleConnections(); // keep-alive sockets would hold close() for their timeout
      });
      return closing;
    },
  };
}

/** Resolves with the first of the signals received; handlers are removed afterwards. */
export function waitForSignal(signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handlers = signals.map((sig) => {
      const h = () => {
        for (const [s, fn] of handlers) process.off(s, fn);
        resolve(sig);
      };
      process.on(sig, h);
      return [sig, h] as const;
    });
  });
}
