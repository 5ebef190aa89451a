// A real `wapt-get serve` child for tests: resolves once it printed its URL, the
// certificate to pin and its dashboard line; stop() sends SIGTERM and waits.
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnAgent } from './agent-env.js';

export interface Serving {
  child: ChildProcess;
  /** https://127.0.0.1:PORT/ */
  url: string;
  /** The server certificate path (verify_cert=…) and its PEM. */
  pin: string;
  pinPem: Buffer;
  out: () => string;
  stop: () => Promise<void>;
}

/** `serve --port 0 --tls-dir <work>/tls ARGS…`, with no ini of its own. */
export function startServe(work: string, args: string[]): Promise<Serving> {
  const child = spawnAgent(['-c', join(work, 'absent.ini'), 'serve', '--port', '0', '--tls-dir', join(work, 'tls'), ...args]);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start: ${out}`));
    }, 30_000);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}: ${out}`));
    });
    child.stdout!.on('data', () => {
      const url = /^listening on (https:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      const pin = /^pin it in wapt-get\.ini: verify_cert=(.+)$/m.exec(out);
      if (!url || !pin || !/^dashboard /m.test(out)) return;
      clearTimeout(timer);
      void readFile(pin[1]!).then((pinPem) =>
        resolve({
          child,
          url: url[1]!,
          pin: pin[1]!,
          pinPem,
          out: () => out,
          stop: async () => {
            child.kill('SIGTERM');
            await exit;
          },
        }),
      );
    });
  });
}

/** One HTTPS request to serve, trusting its pinned certificate; the body parsed as JSON when it is. */
export function callServe(
  s: Serving,
  method: string,
  path: string,
  o: { token?: string; body?: Buffer | string; contentType?: string } = {},
): Promise<{ status: number; json: any; raw: Buffer }> {
  const u = new URL(path, s.url);
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.body !== undefined) {
    headers['content-type'] = o.contentType ?? 'application/json';
    headers['content-length'] = String(Buffer.byteLength(o.body));
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method, ca: s.pinPem, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        let json: unknown = null;
        try {
          json = JSON.parse(raw.toString());
        } catch {
          /* not JSON (a package file) */
        }
        resolve({ status: res.statusCode!, json, raw });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}
