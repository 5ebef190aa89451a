// Randomized kill -9 of the real CLI (issue 9 "Also"): over a few dozen rounds, install,
// upgrade, remove or update is started against a real nginx repository and killed at a
// random moment. After each kill the DB opens, `list` matches the files under the target
// root, and one recovery run (`upgrade`) converges: no row in flight or in ERROR, every
// installed package's files at its version, nothing left to do.
// Seeded: WAPT_CRASH_SEED=<n> replays a run; the seed is printed on failure. Bounded to
// about a minute of rounds.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { cleanupPki } from '../helpers/pki.js';
import { collect, makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';

const SEED = Number(process.env.WAPT_CRASH_SEED ?? Date.now() % 2 ** 31);
const ROUND_BUDGET_MS = 55_000;
const MAX_ROUNDS = 36;
const MIN_ROUNDS = 6;
const NAMES = ['tis-r1', 'tis-r2', 'tis-r3'];

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** install() and uninstall() take a little while, so kills land inside hooks too. */
const setup = (name: string, version: string) => `import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
const pause = () => new Promise((r) => setTimeout(r, 150));
export async function install(h) {
  await pause();
  await mkdir(h.targetPath('/opt/${name}'), { recursive: true });
  await writeFile(h.targetPath('/opt/${name}/.version.tmp'), '${version}');
  await rename(h.targetPath('/opt/${name}/.version.tmp'), h.targetPath('/opt/${name}/version'));
}
export async function uninstall(h) {
  await pause();
  await rm(h.targetPath('/opt/${name}'), { recursive: true, force: true });
}
`;

let w: AgentEnv;
let tmp: string;

beforeAll(async () => {
  w = await makeAgentEnv();
  tmp = path.join(w.dir, 'tmp');
  await mkdir(tmp);
  const specs = NAMES.flatMap((name) => ['1.0-1', '2.0-1'].map((version) => ({ name, version, setup: setup(name, version) })));
  await w.publish(...specs);
  expect((await w.run(['update'])).code).toBe(0);
});

afterAll(async () => {
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

const env = () => ({ TMPDIR: tmp });

/** What is on disk: package → the version its install() wrote. */
async function filesOnDisk(): Promise<Map<string, string>> {
  const opt = path.join(w.userRoot, 'opt');
  const out = new Map<string, string>();
  for (const n of await readdir(opt).catch(() => [] as string[])) {
    const v = path.join(opt, n, 'version');
    out.set(n, existsSync(v) ? (await readFile(v, 'utf8')).trim() : '(partial)');
  }
  return out;
}

interface ListedRow {
  package: string;
  version: string;
  install_status: string;
  pending_action: string | null;
}

async function listed(): Promise<ListedRow[]> {
  const r = await w.run(['list'], { json: true });
  if (r.code !== 0) throw new Error(`list exited ${r.code}: ${r.stdout} ${r.stderr}`);
  return JSON.parse(r.stdout).installed as ListedRow[];
}

async function rowsInDb(): Promise<ListedRow[]> {
  const db = await w.db();
  try {
    return db.installed.list().map((r) => ({ package: r.package, version: r.version, install_status: r.install_status, pending_action: r.pending_action }));
  } finally {
    db.close();
  }
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

function operation(rand: () => number): string[] {
  const name = pick(rand, NAMES);
  switch (pick(rand, ['install-old', 'install', 'upgrade', 'remove', 'update'] as const)) {
    case 'install-old':
      return ['install', `${name}(=1.0-1)`];
    case 'install':
      return ['install', name];
    case 'upgrade':
      return ['upgrade'];
    case 'remove':
      return ['remove', '--force', name];
    case 'update':
      return ['update'];
  }
}

/** After a kill: every settled row matches the disk, and nothing is on disk without a row. */
function checkAfterKill(rows: ListedRow[], disk: Map<string, string>): void {
  const byName = new Map(rows.map((r) => [r.package, r]));
  for (const [name, version] of disk) {
    // a package's files appear only after its RUNNING row is durable (transaction.ts)
    expect({ name, row: byName.has(name) }).toEqual({ name, row: true });
    const r = byName.get(name)!;
    if (r.install_status === 'OK') expect({ name, version }).toEqual({ name, version: r.version });
  }
  for (const r of rows) {
    if (r.install_status === 'OK' && r.pending_action === null)
      expect({ name: r.package, disk: disk.get(r.package) }).toEqual({ name: r.package, disk: r.version });
  }
}

/** After one recovery run: nothing in flight, failed or pending, and the disk is exactly the rows. */
function checkConverged(rows: ListedRow[], disk: Map<string, string>): void {
  expect(rows.filter((r) => r.install_status !== 'OK' || r.pending_action !== null)).toEqual([]);
  expect(Object.fromEntries(disk)).toEqual(Object.fromEntries(rows.map((r) => [r.package, r.version])));
}

async function killAt(child: ChildProcess, delayMs: number): Promise<{ how: 'killed' | 'finished'; ms: number }> {
  const t0 = Date.now();
  const done = collect(child);
  let endedAt = 0;
  void done.then(() => (endedAt = Date.now()));
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill('SIGKILL');
  const ended = await done;
  return { how: ended.signal === 'SIGKILL' ? 'killed' : 'finished', ms: (endedAt || Date.now()) - t0 };
}

/**
 * How long each verb takes on this machine, learnt from the runs that finished before their
 * kill: the next kill of that verb lands at a random point inside that span, so the rounds
 * kill mid-way on a fast machine as on a loaded one.
 */
const span = new Map<string, number>();

test(`random kill -9 of install/upgrade/remove/update (seed ${SEED}): the DB opens, list matches the disk, one recovery run converges`, async () => {
  const rand = prng(SEED);
  const deadline = Date.now() + ROUND_BUDGET_MS;
  const history: string[] = [];
  let rounds = 0;
  let killed = 0;
  try {
    while (rounds < MAX_ROUNDS && Date.now() < deadline) {
      rounds++;
      const args = operation(rand);
      const verb = args[0]!;
      const delay = Math.floor(60 + rand() * (span.get(verb) ?? 1400));
      const { how, ms } = await killAt(w.spawn(args, env()), delay);
      if (how === 'killed') killed++;
      else span.set(verb, Math.max(200, Math.min(span.get(verb) ?? ms, ms)));
      history.push(`${rounds}: ${args.join(' ')} killed at ${delay} ms (${how})`);

      (await w.db()).close(); // throws DB_CORRUPT if a kill ever damaged the file
      const afterKill = await listed();
      checkAfterKill(afterKill, await filesOnDisk());
      const removing = afterKill.filter((r) => r.pending_action === 'remove').map((r) => r.package);

      const recovery = await w.run(['upgrade'], { json: true, env: env() });
      expect({ round: rounds, code: recovery.code, stderr: recovery.code === 0 ? '' : recovery.stderr }).toEqual({ round: rounds, code: 0, stderr: '' });
      const after = await rowsInDb(); // the DB itself (what `list` prints), without one more CLI start
      checkConverged(after, await filesOnDisk());
      // an admin's removal, once recorded, is never reversed: the recovery run completes it
      expect(after.filter((r) => removing.includes(r.package))).toEqual([]);
      expect(await readdir(tmp)).toEqual([]); // the killed run's temp dir and hook were swept
    }
    const dry = await w.run(['upgrade', '--dry-run'], { json: true, env: env() });
    expect(JSON.parse(dry.stdout).plan.order).toEqual([]);
  } catch (err) {
    const msg = `crash-random failed with WAPT_CRASH_SEED=${SEED} (replay with that env var)\n${history.join('\n')}\n${(err as Error).message}`;
    throw Object.assign(new Error(msg), { stack: `${msg}\n${(err as Error).stack ?? ''}` });
  }
  console.log(`crash-random: seed ${SEED}, ${rounds} rounds, ${killed} killed mid-way`);
  expect(rounds).toBeGreaterThanOrEqual(MIN_ROUNDS);
  expect(killed).toBeGreaterThanOrEqual(Math.ceil(rounds / 3)); // the rounds did kill runs mid-way
}, 150_000);
