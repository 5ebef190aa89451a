// A real nginx in the foreground with every path under its own prefix (the
// approach of test/helpers/nginx.ts, which dist code cannot import): HTTPS for
// wapt-get and curl, plain HTTP for apt-get.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

export interface Nginx {
  httpsUrl: string;
  httpUrl: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function config(prefix: string, root: string, tls: { cert: string; key: string }, port: number, httpPort: number): string {
  // As root, workers would switch to `nobody` and could not read a 0700 temp dir.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${prefix}/tmp/${t};`).join('\n  ');
  return `${user}
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 256; }
http {
  types { application/zip wapt; application/gzip gz; }
  default_type application/octet-stream;
  access_log off;
  ${temps}
  sendfile on;
  etag on;
  server { listen 127.0.0.1:${port} ssl; ssl_certificate ${tls.cert}; ssl_certificate_key ${tls.key}; root ${root}; }
  server { listen 127.0.0.1:${httpPort}; root ${root}; }
}
`;
}

export async function startNginx(root: string, tls: { cert: string; key: string }, tmpRoot: string): Promise<Nginx> {
  const prefix = await mkdtemp(join(tmpRoot, 'nginx-'));
  await mkdir(join(prefix, 'tmp'), { recursive: true });
  const [port, httpPort] = [await freePort(), await freePort()];
  const conf = join(prefix, 'nginx.conf');
  await writeFile(conf, config(prefix, root, tls, port, httpPort));
  const child = spawn(NGINX_BIN, ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let dead = false;
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  void exited.then(() => (dead = true));
  child.once('error', (e) => {
    stderr += String(e);
    dead = true;
  });
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port)) || !(await canConnect(httpPort))) {
    if (dead || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = await readFile(join(prefix, 'error.log'), 'utf8').catch(() => '');
      throw new Error(`nginx did not start: ${stderr}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    httpsUrl: `https://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    async stop() {
      if (!dead) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
