// A small static file handler for `wapt-get serve --repo DIR` (node:http/https,
// no framework): GET/HEAD, single Range, strong ETag, conditional requests,
// no directory listing, no way out of the root (`..`, NUL, symlinks).
import { createReadStream, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, basename, join, relative, isAbsolute, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.wapt': 'application/zip',
  '.crt': 'application/x-x509-ca-cert',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

export function contentType(path: string): string {
  if (basename(path) === 'Packages') return 'application/zip'; // W-F1: the index is a zip
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Strong validator: changes whenever the file is replaced (inode) or rewritten (size, mtime). */
export function etagOf(st: Stats): string {
  return `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}-${st.ino.toString(16)}"`;
}

export type RangeResult = { kind: 'none' } | { kind: 'ok'; start: number; end: number } | { kind: 'unsatisfiable' };

/** One `bytes=` range; several ranges, or other units, are ignored (RFC 9110 allows serving 200). */
export function parseRange(value: string | undefined, size: number): RangeResult {
  if (!value) return { kind: 'none' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'none' };
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return { kind: 'none' }; // invalid syntax: ignore
  }
  if (start >= size || size === 0) return { kind: 'unsatisfiable' };
  return { kind: 'ok', start, end };
}

/** Resolve a request path inside root, or null (traversal, NUL, symlink escape, not a file). */
export async function resolveInside(root: string, urlPath: string): Promise<{ path: string; st: Stats } | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const parts = decoded.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return null;
  try {
    const realRoot = await realpath(root);
    const real = await realpath(join(realRoot, ...parts));
    const rel = relative(realRoot, real);
    if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return null;
    const st = await stat(real);
    return st.isFile() ? { path: real, st } : null; // directories: no listing
  } catch {
    return null;
  }
}

function notModified(req: IncomingMessage, etag: string, mtime: Date): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    // weak comparison for If-None-Match (RFC 9110 §13.1.2)
    const bare = etag.replace(/^W\//, '');
    return inm.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === bare);
  }
  const ims = req.headers['if-modified-since'];
  if (ims !== undefined) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && Math.floor(mtime.getTime() / 1000) * 1000 <= since;
  }
  return false;
}

/** If-Range: honour Range only for the same entity (strong ETag, or the exact Last-Modified date). */
function ifRangeMatches(req: IncomingMessage, etag: string, lastModified: string): boolean {
  const raw = req.headers['if-range'];
  if (raw === undefined) return true;
  const v = String(raw);
  return v.startsWith('"') ? v === etag : v === lastModified;
}

function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

export function createStaticHandler(root: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void serve(root, req, res).catch(() => {
      if (!res.headersSent) plain(res, 500, 'internal error\n');
      else res.destroy();
    });
  };
}

async function serve(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return plain(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
  }
  const urlPath = (req.url ?? '/').split('?')[0];
  const found = await resolveInside(root, urlPath);
  if (!found) return plain(res, 404, 'not found\n');
  const { path, st } = found;
  const etag = etagOf(st);
  const lastModified = st.mtime.toUTCString();
  const common = { etag, 'last-modified': lastModified, 'accept-ranges': 'bytes', 'content-type': contentType(path) };
  if (notModified(req, etag, st.mtime)) {
    res.writeHead(304, { etag, 'last-modified': lastModified });
    return void res.end();
  }
  const range = ifRangeMatches(req, etag, lastModified) ? parseRange(req.headers.range, st.size) : { kind: 'none' as const };
  if (range.kind === 'unsatisfiable') {
    return plain(res, 416, 'range not satisfiable\n', { 'content-range': `bytes */${st.size}` });
  }
  const start = range.kind === 'ok' ? range.start : 0;
  const end = range.kind === 'ok' ? range.end : st.size - 1;
  const headers: Record<string, string | number> = { ...common, 'content-length': Math.max(0, end - start + 1) };
  if (range.kind === 'ok') headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
  res.writeHead(range.kind === 'ok' ? 206 : 200, headers);
  if (req.method === 'HEAD' || st.size === 0) return void res.end();
  const stream = createReadStream(path, { start, end });
  res.on('close', () => stream.destroy()); // client went away
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
