// Runs a REAL nginx (Debian: /usr/sbin/nginx) as a foreground child with every
// path (pid, temp dirs, logs) inside its own temp prefix, so tests can run in
// parallel, as root on CI or as a normal user.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

export interface NginxOptions {
  root: string;
  cert: string;
  key: string;
  /** Require a client certificate issued by this CA (mTLS). */
  clientCa?: string;
  /** Raw config inserted in the HTTPS server block (and the plain one). */
  extraLocations?: string;
  /** nginx `limit_rate` value for `location /`, e.g. '256k'. */
  rateLimit?: string;
  /** Also listen with plain HTTP on a second port. */
  plainHttp?: boolean;
}

export interface NginxHandle {
  url: string;
  port: number;
  /** Set when `plainHttp` was asked. */
  httpUrl?: string;
  /** Path of the access log: `$request_method $uri $status range=$http_range bytes=$body_bytes_sent`. */
  accessLog: string;
  readAccessLog(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function config(prefix: string, o: NginxOptions, port: number, httpPort: number | undefined): string {
  // Workers switch to `nobody` by default when started as root; they must read
  // files under a 0700 temp dir, so stay root in that case.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  const common = `root ${o.root};
    etag on;
    location / { ${o.rateLimit ? `limit_rate ${o.rateLimit};` : ''} }
    ${o.extraLocations ?? ''}`;
  const mtls = o.clientCa ? `ssl_client_certificate ${o.clientCa}; ssl_verify_client on;` : '';
  const plain = httpPort === undefined ? '' : `server { listen 127.0.0.1:${httpPort}; ${common} }`;
  return `${user}
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log info;
events { worker_connections 128; }
http {
  types { application/zip wapt; text/html html; application/json json; }
  default_type application/octet-stream;
  log_format t '$request_method $uri $status range=$http_range bytes=$body_bytes_sent';
  access_log ${prefix}/access.log t;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  sendfile on;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${o.cert};
    ssl_certificate_key ${o.key};
    ${mtls}
    ${common}
  }
  ${plain}
}
`;
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startNginx(o: NginxOptions): Promise<NginxHandle> {
  const prefix = await mkdtemp(join(tmpdir(), 'wapt-nginx-'));
  await mkdir(join(prefix, 'tmp'), { recursive: true });
  const port = await freePort();
  const httpPort = o.plainHttp ? await freePort() : undefined;
  const conf = join(prefix, 'nginx.conf');
  await writeFile(conf, config(prefix, o, port, httpPort));
  // -e: nginx ≥ 1.19.5 would otherwise open /var/log/nginx/error.log before reading the config.
  const child: ChildProcess = spawn(NGINX_BIN, ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', conf, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  child.once('error', (e) => {
    stderr += String(e);
    dead = true;
  });

  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port)) || (httpPort !== undefined && !(await canConnect(httpPort)))) {
    if (dead || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = await readFile(join(prefix, 'error.log'), 'utf8').catch(() => '');
      throw new Error(`nginx did not start: ${stderr}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const accessLog = join(prefix, 'access.log');
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    httpUrl: httpPort === undefined ? undefined : `http://127.0.0.1:${httpPort}`,
    accessLog,
    async readAccessLog() {
      const text = await readFile(accessLog, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l !== '');
    },
    async stop() {
      if (!dead) {
        child.kill('SIGTERM'); // fast shutdown: master stops its workers
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
