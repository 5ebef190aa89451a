// `wapt-get mirror URL DIR` end to end (issue 12 §5): the real binary, the origin on a real
// nginx over TLS, the mirror directory served by a second nginx, clients installing from it.
import { copyFile, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DAY, REPOSITORY, consistentListing, makeMirrorWorld, sha256, waptFiles, waptGets, type MirrorWorld } from './mirror-world.js';
import { buildTestPackage } from '../helpers/agent-env.js';

let w: MirrorWorld;

beforeAll(async () => {
  w = await makeMirrorWorld();
  await w.publish([
    { name: 'tis-one', version: '1.0-1' },
    { name: 'tis-two', version: '1.0-1' },
    { name: 'tis-three', version: '1.0-1' },
  ]);
}, 120_000);

afterAll(async () => {
  await w?.stop();
});

const originPackages = () => readFile(path.join(w.env.repoDir, 'Packages'));
const mirrorPackages = () => readFile(path.join(w.mirrorDir, 'Packages'));

test('cold mirror, then a client update && install from the mirror verifies against the origin signers', async () => {
  const r = await w.mirror(['--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const rep = JSON.parse(r.stdout);
  expect(rep).toMatchObject({ published: true, repository: REPOSITORY, kept: 0, removed: [], dry_run: false });
  expect(rep.downloaded.sort()).toEqual(await waptFiles(w.env.repoDir));
  expect(rep.bytes).toBeGreaterThan(3 * 4096);
  // the origin's Packages, statement included, byte for byte: the mirror holds no key
  expect(sha256(await mirrorPackages())).toBe(sha256(await originPackages()));
  expect(await consistentListing(w.mirrorDir)).toHaveLength(3);
  expect((await stat(path.join(w.mirrorDir, '.wapt-get-mirror.json'))).mode & 0o777).toBe(0o600);

  await w.env.configure({ repo_url: w.served.url });
  const up = await w.env.run(['update'], { json: true });
  expect(up.code).toBe(0);
  expect(JSON.parse(up.stdout).repos[0]).toMatchObject({ url: w.served.url, signed: true, packages: 3, rejected: 0, index_version: rep.index_version });
  const before = (await w.served.readAccessLog()).length;
  const inst = await w.env.run(['install', 'tis-two'], { json: true });
  expect(inst.code).toBe(0);
  expect(JSON.parse(inst.stdout).results).toEqual([{ package: 'tis-two', version: '1.0-1', action: 'install', status: 'OK' }]);
  expect(await waptGets(w.served, before)).toEqual(['tis-two_1.0-1.wapt']);
});

test('incremental after one change downloads only that package (origin access log), then removes the old one', async () => {
  const from = (await w.env.nginx.readAccessLog()).length;
  await w.publish([{ name: 'tis-one', version: '2.0-1' }]);
  await (await import('node:fs/promises')).rm(path.join(w.env.repoDir, 'tis-one_1.0-1.wapt'));
  await w.sign();
  const r = await w.mirror(['--json']);
  expect(r.code).toBe(0);
  const rep = JSON.parse(r.stdout);
  expect(rep).toMatchObject({ downloaded: ['tis-one_2.0-1.wapt'], kept: 2, removed: ['tis-one_1.0-1.wapt'], published: true });
  expect(await waptGets(w.env.nginx, from)).toEqual(['tis-one_2.0-1.wapt']);
  expect(await waptFiles(w.mirrorDir)).toEqual(await waptFiles(w.env.repoDir));
  expect(sha256(await mirrorPackages())).toBe(sha256(await originPackages()));

  // nothing changed: nothing downloaded, everything kept
  const again = JSON.parse((await w.mirror(['--json'])).stdout);
  expect(again).toMatchObject({ downloaded: [], kept: 3, removed: [] });
});

test('--dry-run reports the plan and changes nothing', async () => {
  await w.publish([{ name: 'tis-four', version: '1.0-1' }]);
  const before = await mirrorPackages();
  const r = await w.mirror(['--json', '--dry-run']);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true, published: false, downloaded: ['tis-four_1.0-1.wapt'], kept: 3, bytes: 0 });
  expect(await mirrorPackages()).toEqual(before);
  expect(await waptFiles(w.mirrorDir)).not.toContain('tis-four_1.0-1.wapt');
  expect((await w.mirror()).code).toBe(0); // and a real run catches up
});

test('tampered package on the origin: refused (ERR_BAD_DIGEST), not renamed into DIR, previous Packages kept', async () => {
  const before = await mirrorPackages();
  await w.publish([{ name: 'tis-five', version: '1.0-1' }]);
  // same name, other bytes (another build): the signed index names the first build's sha256
  const evil = await buildTestPackage(w.env.pki, w.env.dir, path.join(w.env.dir, 'evil'), { name: 'tis-five', version: '1.0-1', files: { 'x.bin': 'evil' } });
  await copyFile(evil, path.join(w.env.repoDir, 'tis-five_1.0-1.wapt'));
  const r = await w.mirror();
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('[ERR_BAD_DIGEST]');
  expect(r.stderr).toContain('keeps its previous Packages');
  expect(await mirrorPackages()).toEqual(before);
  expect(await waptFiles(w.mirrorDir)).not.toContain('tis-five_1.0-1.wapt');
  await consistentListing(w.mirrorDir);
  // the origin repaired: the next run publishes
  await w.publish([{ name: 'tis-five', version: '1.0-2' }]);
  await (await import('node:fs/promises')).rm(path.join(w.env.repoDir, 'tis-five_1.0-1.wapt'));
  await w.sign();
  expect((await w.mirror()).code).toBe(0);
  expect(sha256(await mirrorPackages())).toBe(sha256(await originPackages()));
});

test('rolled-back origin index: refused (INDEX_ROLLBACK), previous state kept', async () => {
  const old = await originPackages();
  await w.sign(); // version + 1
  expect((await w.mirror()).code).toBe(0);
  const current = await mirrorPackages();
  await writeFile(path.join(w.env.repoDir, 'Packages.old'), old);
  await rename(path.join(w.env.repoDir, 'Packages.old'), path.join(w.env.repoDir, 'Packages'));
  const r = await w.mirror(['--json']);
  expect(r.code).toBe(3);
  expect(JSON.parse(r.stdout).error.code).toBe('INDEX_ROLLBACK');
  expect(await mirrorPackages()).toEqual(current);
  await consistentListing(w.mirrorDir);
  await w.sign();
});

test('expired origin index: refused (INDEX_EXPIRED), previous state kept', async () => {
  const current = await mirrorPackages();
  await w.sign(1000);
  await new Promise((r) => setTimeout(r, 2000));
  const r = await w.mirror(['--json']);
  expect({ code: r.code, error: JSON.parse(r.stdout).error?.code, stderr: r.stderr }).toMatchObject({ code: 3, error: 'INDEX_EXPIRED' });
  expect(await mirrorPackages()).toEqual(current);
  await w.sign(DAY);
});

test('safe from cron: a second run while one holds DIR/.wapt-get-mirror.lock gets LOCK_BUSY', async () => {
  await w.publish([{ name: 'tis-big', version: '1.0-1' }], 64);
  const held = w.spawnMirror(['--limit-rate', '1k']);
  const lockFile = path.join(w.mirrorDir, '.wapt-get-mirror.lock');
  const end = Date.now() + 10_000;
  while (!(await stat(lockFile).catch(() => null)) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  const r = await w.mirror(['--lock-timeout', '0']);
  held.kill('SIGKILL');
  expect(r.stderr).toContain('[LOCK_BUSY]');
  expect((await w.mirror()).code).toBe(0); // the dead holder's lock is taken over
});

test('--limit-rate caps the run: 256 KiB of new packages at 64k take about 4 s, not a burst', async () => {
  await w.publish([{ name: 'tis-slow', version: '1.0-1' }], 256);
  const t0 = Date.now();
  const r = await w.mirror(['--json', '--limit-rate', '64k']);
  const seconds = (Date.now() - t0) / 1000;
  expect(r.code).toBe(0);
  const rep = JSON.parse(r.stdout);
  expect(rep.downloaded).toEqual(['tis-slow_1.0-1.wapt']);
  expect(rep.bytes).toBeGreaterThan(256 * 1024);
  expect(seconds).toBeGreaterThan((rep.bytes / (64 * 1024)) * 0.6);
});
