// Issue 12 §4: upgrade / download-upgrade / download fetch max_parallel_downloads packages
// at once (default 4), through the real CLI against a real nginx over HTTPS; nginx proxies
// the *.wapt requests to a counting file server (counting-upstream.ts) that sees how many
// transfers overlap. One failing transfer leaves the others complete and itself resumable;
// the --limit-rate cap is shared by all transfers of a run.
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { cleanupPki } from '../helpers/pki.js';
import { makeAgentEnv, type AgentEnv, type PkgSpec } from '../helpers/agent-env.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { startUpstream, type Upstream } from './counting-upstream.js';

let w: AgentEnv;
let up: Upstream;
let proxy: NginxHandle;
const names = Array.from({ length: 8 }, (_, i) => `tis-par${i}`);
const big = (name: string, version = '1.0-1', kib = 64): PkgSpec => ({ name, version, files: { 'payload.bin': randomBytes(kib * 1024) } });

beforeAll(async () => {
  w = await makeAgentEnv();
  up = await startUpstream(w.repoDir);
  proxy = await startNginx({ root: w.repoDir, cert: w.tls.serverCert, key: w.tls.serverKey, extraLocations: up.locations });
  await w.configure({ repo_url: proxy.url });
  await w.publish(...names.map((n) => big(n)), ...['tis-rate0', 'tis-rate1', 'tis-rate2', 'tis-rate3', 'tis-rate4'].map((n) => big(n, '1.0-1', 1024)));
  const r = await w.run(['update']);
  expect(r.stderr).not.toMatch(/error|not downloaded/);
  expect(r.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await up?.close();
  await proxy?.stop();
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

const cached = (n: string) => path.join(w.cacheDir, `${n}_1.0-1.wapt`);

beforeEach(() => up.reset());

/** The cache emptied by hand (`clean` keeps the files of installed packages). */
const emptyCache = () => rm(w.cacheDir, { recursive: true, force: true });

test('download of 8 packages: 4 transfers overlap by default (max_parallel_downloads = 4), all verified into the cache', async () => {
  const r = await w.run(['download', ...names], { json: true });
  expect(r.stderr).not.toMatch(/error|not downloaded/);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).downloads.map((d: { package: string }) => d.package)).toEqual(names);
  expect(up.requests.map((q) => q.file).sort()).toEqual(names.map((n) => `${n}_1.0-1.wapt`).sort());
  expect(up.maxInFlight).toBe(4);
  for (const n of names) expect(existsSync(cached(n))).toBe(true);
}, 60_000);

test('max_parallel_downloads = 1: one transfer at a time; = 2: two', async () => {
  for (const limit of [1, 2]) {
    await w.configure({ repo_url: proxy.url, max_parallel_downloads: limit });
    up.reset();
    const r = await w.run(['clean']);
    expect(r.code).toBe(0);
    for (const n of names.slice(0, 4)) expect(existsSync(cached(n))).toBe(false);
    const d = await w.run(['download', ...names.slice(0, 4)]);
    expect(d.code).toBe(0);
    expect(up.requests).toHaveLength(4);
    expect(up.maxInFlight).toBe(limit);
  }
  await w.configure({ repo_url: proxy.url });
  const bad = await w.configure({ repo_url: proxy.url, max_parallel_downloads: 0 }).then(() => w.run(['download', names[0]!]));
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/CONFIG_INVALID.*max_parallel_downloads/);
  await w.configure({ repo_url: proxy.url });
}, 90_000);

test('install of 8 packages (the executePlan path of install/upgrade): downloads overlap, installs one at a time in plan order', async () => {
  await w.run(['clean']);
  up.reset();
  const r = await w.run(['install', ...names], { json: true });
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { results: { package: string; status: string }[] };
  expect(out.results.map((x) => x.status)).toEqual(names.map(() => 'OK'));
  expect(out.results.map((x) => x.package)).toEqual([...names].sort());
  expect(up.maxInFlight).toBe(4);
}, 90_000);

test('one failing transfer (body cut short, then 503): the others complete in the cache, it alone is reported and its .part resumes with a Range request', async () => {
  const victim = 'tis-par3_1.0-1.wapt';
  await emptyCache();
  up.breakFile = victim;
  up.reset();
  const r = await w.run(['download', ...names], { json: true });
  expect(r.code).not.toBe(0);
  expect(r.stderr.match(/not downloaded: [^\n]*/g)).toEqual([expect.stringContaining(`not downloaded: ${victim}`)]);
  expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'HTTP_STATUS', detail: { status: 503 } });
  expect(JSON.parse(r.stdout).error.message).toContain(victim);
  for (const n of names.filter((x) => x !== 'tis-par3')) expect(existsSync(cached(n))).toBe(true);
  expect(existsSync(cached('tis-par3'))).toBe(false);
  const part = `${cached('tis-par3')}.part`;
  expect(existsSync(part)).toBe(true);
  const partSize = statSync(part).size;
  expect(partSize).toBeGreaterThan(0);
  expect(partSize).toBeLessThan(statSync(path.join(w.repoDir, victim)).size);

  up.breakFile = null;
  up.reset();
  const again = await w.run(['download', 'tis-par3'], { json: true });
  expect(again.stderr).not.toMatch(/error|not downloaded/);
  expect(again.code).toBe(0);
  expect(up.requests).toEqual([{ file: victim, range: `bytes=${partSize}-` }]);
  expect(JSON.parse(again.stdout).downloads[0]).toMatchObject({ package: 'tis-par3', status: 'downloaded', resumed_from: partSize });
  expect(existsSync(part)).toBe(false);
}, 90_000);

test('the --limit-rate cap is shared: 4 parallel transfers of 1 MiB under 1M take about 4× one, not 1×', async () => {
  await emptyCache();
  const timed = async (pkgs: string[]) => {
    const t0 = Date.now();
    const r = await w.run(['download', '--limit-rate', '1M', ...pkgs], { timeoutMs: 60_000 });
    expect(r.stderr).not.toMatch(/error|not downloaded/);
    expect(r.code).toBe(0);
    return (Date.now() - t0) / 1000;
  };
  const one = await timed(['tis-rate0']);
  up.reset();
  const four = await timed(['tis-rate1', 'tis-rate2', 'tis-rate3', 'tis-rate4']);
  expect(up.maxInFlight).toBe(4);
  // 4 MiB at 1 MiB/s less one ~100 ms burst: ≥ 3.2 s whatever the load; a cap per transfer would take ~1 s.
  expect(four).toBeGreaterThanOrEqual(3.2);
  expect(one).toBeGreaterThanOrEqual(0.8);
  expect(four).toBeLessThan(4 * one + 10);
}, 90_000);
