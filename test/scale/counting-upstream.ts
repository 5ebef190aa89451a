// A plain-HTTP file server that nginx proxies the *.wapt requests to (the client still
// talks HTTPS to the real nginx): it counts how many requests are in flight at once,
// holds each body for `holdMs` so that parallel transfers overlap, answers `Range:
// bytes=N-` (with If-Range) by 206, and can cut one file's body short (then refuse its
// ranged retries with 503) to play a transfer that fails.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../helpers/nginx.js';

export interface Upstream {
  port: number;
  /** nginx `location` rules that send every *.wapt here. */
  locations: string;
  inFlight: number;
  maxInFlight: number;
  /** Every request: file name and its Range header. */
  requests: { file: string; range: string | undefined }[];
  holdMs: number;
  /** File whose full GET is cut after half its bytes and whose ranged GETs get 503. */
  breakFile: string | null;
  reset(): void;
  close(): Promise<void>;
}

export async function startUpstream(root: string): Promise<Upstream> {
  const port = await freePort();
  const up: Upstream = {
    port,
    locations: `location ~ \\.wapt$ { proxy_pass http://127.0.0.1:${port}; proxy_buffering off; proxy_http_version 1.1; }`,
    inFlight: 0,
    maxInFlight: 0,
    requests: [],
    holdMs: 1000,
    breakFile: null,
    reset() {
      up.maxInFlight = 0;
      up.requests = [];
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const file = path.basename(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const range = req.headers.range;
    up.requests.push({ file, range });
    up.inFlight++;
    up.maxInFlight = Math.max(up.maxInFlight, up.inFlight);
    res.on('close', () => up.inFlight--);
    const full = path.join(root, file);
    const st = await stat(full).catch(() => null);
    if (!st) {
      res.writeHead(404).end();
      return;
    }
    await new Promise((r) => setTimeout(r, up.holdMs));
    const data = await readFile(full);
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers = { etag, 'last-modified': st.mtime.toUTCString(), 'accept-ranges': 'bytes' };
    const m = range ? /^bytes=(\d+)-$/.exec(range) : null;
    if (up.breakFile === file) {
      if (m) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { ...headers, 'content-length': String(data.length) });
      res.write(data.subarray(0, data.length >> 1), () => setTimeout(() => res.destroy(), 200));
      return;
    }
    if (m && (req.headers['if-range'] === undefined || req.headers['if-range'] === etag)) {
      const from = Number(m[1]);
      res.writeHead(206, { ...headers, 'content-length': String(data.length - from), 'content-range': `bytes ${from}-${data.length - 1}/${data.length}` });
      res.end(data.subarray(from));
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': String(data.length) });
    res.end(data);
  };
  const server: Server = createServer((req, res) => {
    serve(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return up;
}
