// fleet (issue 10, speed): `wapt-get serve --data-dir` as a child process, files store and
// PostgreSQL: signed reports accepted per second (signature verification included) and p99
// latency at that load, GET /api/v1/hosts?limit=100 p99 with 20,000 hosts stored (files) or
// 100,000 (PostgreSQL), and the server's peak RSS. Goals: ≥ 500 reports/s, list p99 ≤ 100 ms,
// RSS ≤ 300 MB.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { openStore } from '../../server/index.js';
import type { BenchContext } from '../context.js';
import { row, unavailable, type Row } from '../report.js';
import { CLI_BIN } from '../util.js';
import { fire, httpsCall, makeHosts, p99, registerBody, statusBodies, type Target } from './fleet-load.js';

const ADMIN = 'bench-admin-token';
const PG_BIN = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'].find((d) => existsSync(join(d, 'initdb')));

async function seedFiles(dataDir: string, n: number): Promise<void> {
  await mkdir(join(dataDir, 'hosts'), { recursive: true, mode: 0o700 });
  const at = new Date().toISOString();
  for (let i = 0; i < n; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, n - i) }, (_, j) => {
        const key = `seed-${String(i + j).padStart(7, '0')}`;
        const inventory = {
          host_uuid: key,
          packages: Array.from({ length: 20 }, (_, k) => ({ package: `tis-app${k}`, version: '1.0-1', install_status: 'OK' })),
        };
        const rec = {
          host_uuid: key,
          certificate: '',
          fingerprint: `seed${i + j}`,
          registered_at: at,
          last_seen: at,
          last_sequence: 1,
          hostname: `pc${i + j}`,
          inventory,
          inventory_at: at,
          status: null,
          status_at: null,
        };
        return writeFile(join(dataDir, 'hosts', `${key}.json`), JSON.stringify(rec), { mode: 0o600 });
      }),
    );
  }
}

async function seedPg(url: string, n: number): Promise<void> {
  const store = await openStore({ dataDir: '', db: url }); // creates the schema
  await store.close();
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(
      `INSERT INTO wg_hosts (key, host_uuid, certificate, fingerprint, registered_at, last_seen, last_sequence, hostname, inventory, inventory_at, summary, state, search)
       SELECT 'seed-' || lpad(i::text, 7, '0'), 'seed-' || lpad(i::text, 7, '0'), '', 'seed' || i, now()::text, now()::text, 1, 'pc' || i, '{}'::json, now()::text,
              jsonb_build_object('host_uuid', 'seed-' || lpad(i::text, 7, '0'), 'hostname', 'pc' || i, 'state', 'OK', 'packages', '[]'::jsonb,
                'counts', jsonb_build_object('total', 20, 'ok', 20, 'error', 0, 'need_upgrade', 0, 'pending', 0, 'audit_error', 0)), 'OK', 'pc' || i
         FROM generate_series(1, $1::int) AS i`,
      [n],
    );
    await c.query(
      `INSERT INTO wg_host_packages (key, package, version, state) SELECT 'seed-' || lpad(i::text, 7, '0'), 'tis-app' || k, '1.0-1', 'OK' FROM generate_series(1, $1::int) i, generate_series(0, 19) k`,
      [n],
    );
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
}

async function startServe(ctx: BenchContext, dataDir: string, db: string | undefined): Promise<{ child: ChildProcess; port: number }> {
  const tls = await ctx.tls();
  await writeFile(join(dataDir, '..', 'admins'), `bench admin ${createHash('sha256').update(ADMIN).digest('hex')}\n`);
  const args = [
    'serve',
    '--repo',
    dataDir,
    '--port',
    '0',
    '--cert',
    tls.cert,
    '--key',
    tls.key,
    '--data-dir',
    dataDir,
    '--open-registration',
    '--admin-tokens-file',
    join(dataDir, '..', 'admins'),
  ];
  if (db) args.push('--db', db);
  const child = spawn(process.execPath, [CLI_BIN, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 120_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on https:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (c) => reject(new Error(`serve exited ${c}: ${out}`)));
  });
  return { child, port };
}

async function hwmMb(pid: number): Promise<number> {
  const m = /VmHWM:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function storeRows(ctx: BenchContext, kind: 'files' | 'postgres', db: string | undefined, stored: number): Promise<Row[]> {
  const dir = await mkdtemp(join(ctx.work, `fleet-${kind}-`));
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { mode: 0o700 });
  try {
    if (kind === 'files') await seedFiles(dataDir, stored);
    else await seedPg(db!, stored);
    const { child, port } = await startServe(ctx, dataDir, db);
    try {
      const tls = await ctx.tls();
      const t: Target = { port, ca: await readFile(tls.cert), agent: new Agent({ keepAlive: true, maxSockets: 64 }) };
      const hosts = await makeHosts(ctx.quick ? 16 : 64, `bench-${kind}`);
      for (const h of hosts) await httpsCall(t, 'POST', '/api/v1/register', registerBody(h, 1));
      const total = ctx.quick ? 600 : 3000;
      // one report in flight per host: a host's reports are sequential (a later sequence first would make the earlier a replay)
      const load = await fire(t, '/api/v1/status', statusBodies(hosts, total, 2), hosts.length);
      const perSec = (total - load.refused) / load.seconds;
      const lists: number[] = [];
      for (let i = 0; i < (ctx.quick ? 50 : 200); i++)
        lists.push((await httpsCall(t, 'GET', `/api/v1/hosts?limit=100&after=seed-${String(i * 97).padStart(7, '0')}`, undefined, ADMIN)).ms);
      const rss = await hwmMb(child.pid!);
      t.agent.destroy();
      const note = `${stored.toLocaleString('en')} hosts stored, ${hosts.length} reporting, one in flight each`;
      return [
        row({
          bench: 'fleet',
          label: `reports/s (${kind}): ${perSec.toFixed(0)}/s, ${total} signed reports`,
          ours: load.seconds,
          target: { kind: 'max', value: total / 500, unit: 's' },
          runs: '1 run',
          note: `${note}; ${load.refused} refused`,
        }),
        row({ bench: 'fleet', label: `report p99 latency at that load (${kind})`, ours: p99(load.latencies) / 1000, runs: `${total} requests`, note }),
        row({
          bench: 'fleet',
          label: `GET /api/v1/hosts?limit=100 p99 (${kind})`,
          ours: p99(lists) / 1000,
          target: { kind: 'max', value: 0.1, unit: 's' },
          runs: `${lists.length} requests`,
          note,
        }),
        row({ bench: 'fleet', label: `serve peak RSS (${kind})`, ours: rss, unit: 'MB', target: { kind: 'max', value: 300, unit: 'MB' }, runs: 'VmHWM', note }),
      ];
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A throw-away PostgreSQL cluster (initdb refuses root: run as the postgres user). */
function pgCluster(dir: string, port: number) {
  const as = (args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'ignore' });
  chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  as([join(PG_BIN!, 'initdb'), '-D', join(dir, 'data'), '-A', 'trust', '-U', 'wg', '--no-sync']);
  as([join(PG_BIN!, 'pg_ctl'), '-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
  return { url: `postgres://wg@127.0.0.1:${port}/postgres`, stop: () => as([join(PG_BIN!, 'pg_ctl'), '-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']) };
}

export async function benchFleet(ctx: BenchContext): Promise<Row[]> {
  const rows = await storeRows(ctx, 'files', undefined, ctx.quick ? 5000 : 20_000);
  let pgUser = true;
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    pgUser = false;
  }
  if (!PG_BIN || !pgUser) return [...rows, unavailable('fleet', 'reports/s (postgres)', 'PostgreSQL server binaries (apt-get install postgresql)')];
  const dir = await mkdtemp(join(ctx.work, 'fleet-pg-'));
  const cluster = pgCluster(dir, 25_000 + (process.pid % 5000));
  try {
    rows.push(...(await storeRows(ctx, 'postgres', cluster.url, ctx.quick ? 20_000 : 100_000)));
  } finally {
    cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
