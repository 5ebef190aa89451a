// A mirror run killed with SIGKILL at several points (issue 12 "Bad input"): the directory a
// client reads is the old repository or the new one, never a mix, and the next run finishes
// the job, continuing an interrupted download with a Range request.
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { consistentListing, makeMirrorWorld, sha256, type MirrorWorld } from './mirror-world.js';

let w: MirrorWorld;
let round = 0;

beforeAll(async () => {
  w = await makeMirrorWorld();
  await w.publish(
    ['a', 'b', 'c'].map((n) => ({ name: `tis-${n}`, version: '1.0-1' })),
    32,
  );
  const cold = await w.mirror();
  expect(cold.code).toBe(0);
  await w.env.configure({ repo_url: w.served.url });
}, 120_000);

afterAll(async () => {
  await w?.stop();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const digest = async (p: string) => sha256(await readFile(p));
const work = () => path.join(w.mirrorDir, '.wapt-get-mirror.work');

type Point = 'index fetch' | 'package download' | 'first package renamed in' | 'Packages published';

/** Resolves once the run reached `point` (polled: the kill lands a few ms after it). */
async function reached(point: Point, oldIndex: string, newFiles: string[]): Promise<void> {
  const end = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > end) throw new Error(`the mirror never reached "${point}"`);
    if (point === 'index fetch') return sleep(30);
    if (point === 'package download' && (await readdir(work()).catch(() => [] as string[])).some((n) => n.endsWith('.wapt.part'))) return sleep(800);
    if (point === 'first package renamed in' && (await readdir(w.mirrorDir)).some((n) => newFiles.includes(n))) return;
    if (point === 'Packages published' && (await digest(path.join(w.mirrorDir, 'Packages'))) !== oldIndex) return;
    await sleep(2);
  }
}

for (const point of ['index fetch', 'package download', 'first package renamed in', 'Packages published'] as Point[]) {
  test(`kill -9 at "${point}": the client accepts the mirror (old or new state), the next run completes it`, async () => {
    round++;
    const oldIndex = await digest(path.join(w.mirrorDir, 'Packages'));
    // one change: three new packages, one dropped
    const added = await w.publish(
      ['x', 'y', 'z'].map((n) => ({ name: `tis-${n}${round}`, version: '1.0-1' })),
      96,
    );
    const dropped = (await readdir(w.env.repoDir)).filter((n) => n.endsWith('.wapt')).sort()[0]!;
    await rm(path.join(w.env.repoDir, dropped));
    await w.sign();
    const newIndex = await digest(path.join(w.env.repoDir, 'Packages'));
    const newFiles = added.map((p) => path.basename(p));
    const logFrom = (await w.env.nginx.readAccessLog()).length;

    const child = w.spawnMirror(['--limit-rate', point === 'package download' ? '64k' : '2M']);
    const exited = new Promise((r) => child.once('exit', r));
    await reached(point, oldIndex, newFiles);
    child.kill('SIGKILL');
    await exited;

    // what a client reading the mirror now sees: the old or the new index, every listed file as the index says
    const now = await digest(path.join(w.mirrorDir, 'Packages'));
    expect([oldIndex, newIndex]).toContain(now);
    const listed = await consistentListing(w.mirrorDir);
    const up = await w.env.run(['update'], { json: true });
    expect(up.code).toBe(0);
    expect(JSON.parse(up.stdout).repos[0]).toMatchObject({ signed: true, rejected: 0, packages: listed.length });
    const names = listed.map((f) => f.replace(/_[^_]+\.wapt$/, ''));
    const dl = await w.env.run(['download', ...names]);
    expect(dl.stderr).not.toContain('error');
    expect(dl.code).toBe(0);

    // the next run finishes: the origin's index, its files, nothing else
    const again = await w.mirror(['--json']);
    expect(again.code).toBe(0);
    expect(await digest(path.join(w.mirrorDir, 'Packages'))).toBe(newIndex);
    await consistentListing(w.mirrorDir);
    expect((await readdir(w.mirrorDir)).filter((n) => n.endsWith('.wapt')).sort()).toEqual(
      (await readdir(w.env.repoDir)).filter((n) => n.endsWith('.wapt')).sort(),
    );
    expect(await readdir(work())).toEqual([]);
    if (point === 'package download') {
      // the part left by the killed run was continued, not fetched again from byte 0
      const log = (await w.env.nginx.readAccessLog()).slice(logFrom);
      expect(log.filter((l) => l.includes('.wapt'))).toContainEqual(expect.stringMatching(/\.wapt 206 range=bytes=[1-9]/));
    }
    expect((await stat(path.join(w.mirrorDir, '.wapt-get-mirror.json'))).mode & 0o777).toBe(0o600);
  }, 120_000);
}
