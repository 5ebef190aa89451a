// A real HTTPS repository server that misbehaves on purpose: it serves the files of a
// repository directory (ETag, Range, If-Range like nginx), and for the paths a test picks
// it drips one byte every few seconds, cuts the connection after some bytes, or gzips
// the body nobody asked to be compressed. Node's https with the test CA's server cert.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export type Fault =
  | { kind: 'drip'; everyMs: number }
  /** Sends `bytes` bytes of the (ranged) body, then destroys the socket. */
  | { kind: 'cut'; bytes: number }
  | { kind: 'gzip' };

export interface SeenRequest {
  path: string;
  range?: string;
  ifRange?: string;
}

export interface FaultServer {
  url: string;
  requests: SeenRequest[];
  /** The fault for a request path (`/Packages`, `/tis-a_1.0-1.wapt`), or undefined to serve it normally. */
  faultFor: (urlPath: string) => Fault | undefined;
  close(): Promise<void>;
}

function etagOf(data: Buffer): string {
  return `"${createHash('sha256').update(data).digest('hex').slice(0, 16)}"`;
}

export async function startFaultServer(o: { root: string; cert: string; key: string }): Promise<FaultServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const handle: FaultServer = {
    url: '',
    requests: [],
    faultFor: () => undefined,
    async close() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'https://x').pathname);
    handle.requests.push({ path: urlPath, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined });
    let data: Buffer;
    try {
      data = readFileSync(path.join(o.root, path.basename(urlPath)));
    } catch {
      res.writeHead(404).end();
      return;
    }
    const etag = etagOf(data);
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end();
      return;
    }
    const fault = handle.faultFor(urlPath);
    if (fault?.kind === 'gzip') {
      const body = gzipSync(data);
      res.writeHead(200, { etag, 'content-encoding': 'gzip', 'content-length': body.length }).end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    let status = 200;
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (m && (ifRange === undefined || ifRange === etag) && Number(m[1]) < data.length) {
      status = 206;
      start = Number(m[1]);
    }
    const body = data.subarray(start);
    const headers: Record<string, string | number> = { etag, 'content-length': body.length, 'accept-ranges': 'bytes' };
    if (status === 206) headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (!fault) {
      res.end(body);
      return;
    }
    if (fault.kind === 'cut') {
      res.write(body.subarray(0, fault.bytes), () => setTimeout(() => req.socket.destroy(), 50));
      return;
    }
    let at = 0;
    const t = setInterval(() => {
      if (at >= body.length || res.destroyed) {
        clearInterval(t);
        timers.delete(t);
        res.end();
        return;
      }
      res.write(body.subarray(at, at + 1));
      at++;
    }, fault.everyMs);
    timers.add(t);
    res.on('close', () => {
      clearInterval(t);
      timers.delete(t);
    });
  };

  const server: Server = createServer({ cert: readFileSync(o.cert), key: readFileSync(o.key) }, serve);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  handle.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return handle;
}
