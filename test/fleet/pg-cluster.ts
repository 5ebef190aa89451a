// A throw-away PostgreSQL cluster for tests: initdb + pg_ctl (Debian's postgresql 15) in a
// temp dir owned by the postgres user (initdb refuses root), on a loopback port. A test
// that cannot start it FAILS: there is no stand-in.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const BIN = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'].find((d) => existsSync(join(d, 'initdb')));

export interface PgCluster {
  port: number;
  url(db: string): string;
  createDb(name: string): Promise<string>;
  stop(): void;
  start(): void;
  destroy(): void;
}

function asPostgres(args: string[]): string {
  return execFileSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function startCluster(port: number): Promise<PgCluster> {
  if (!BIN) throw new Error('PostgreSQL server binaries not found (apt-get install postgresql): the PostgreSQL store tests need a real cluster');
  const dir = mkdtempSync(join(tmpdir(), 'wg-pg-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  asPostgres([join(BIN, 'initdb'), '-D', data, '-A', 'trust', '-U', 'wg', '--no-sync', '-E', 'UTF8']);
  const start = () =>
    asPostgres([
      join(BIN, 'pg_ctl'),
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`,
      'start',
    ]);
  const stop = () => asPostgres([join(BIN, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  const url = (db: string) => `postgres://wg@127.0.0.1:${port}/${db}`;
  return {
    port,
    url,
    async createDb(name) {
      const c = new pg.Client({ connectionString: url('postgres') });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    stop,
    start,
    destroy() {
      try {
        stop();
      } catch {
        /* already stopped */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
