// Issue 12 §2: the warm update answered from <dbdir>/update-304.json plus one conditional
// GET per repository (agent/update/fast-304.ts), and every way that answer is refused
// and the full path taken instead: the index changed on the server, the local state
// changed, the ini changed, the side file is corrupt, planted as a link, or too old.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { cleanupPki } from '../helpers/pki.js';

let w: AgentEnv;
let side: string;

beforeAll(async () => {
  w = await makeAgentEnv({ ini: { use_hostpackages: 0 } });
  await w.publish({ name: 'tis-one', version: '1.0-1' }, { name: 'tis-two', version: '1.0-1' });
  side = path.join(path.dirname(w.dbPath), 'update-304.json');
}, 60_000);

afterAll(async () => {
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

async function update(quiet = true): Promise<{ code: number | null; out: any }> {
  const r = await w.run(['update'], { json: true });
  if (quiet) expect(r.stderr).toBe('');
  return { code: r.code, out: JSON.parse(r.stdout) };
}

test('a full update writes the side file (0600); the next one is answered by it, with the same summary', async () => {
  const first = await update(false); // the first run tightens dbdir to 0700, with a warning
  expect(first.code).toBe(0);
  expect(first.out.fast_304).toBeUndefined();
  expect((await fs.stat(side)).mode & 0o777).toBe(0o600);
  const again = await update();
  expect(again.code).toBe(0);
  expect(again.out.fast_304).toBe(true);
  expect(again.out.packages).toBe(first.out.packages);
  expect(again.out.upgradable).toBe(first.out.upgradable);
  expect(again.out.repos[0]).toMatchObject({ repo: 'global', status: 'not-modified', packages: 2 });
});

test('the index changed on the server (no 304): the full path runs and sees the new package', async () => {
  await w.publish({ name: 'tis-three', version: '1.0-1' });
  const r = await update();
  expect(r.out.fast_304).toBeUndefined();
  expect(r.out.repos[0]).toMatchObject({ status: 'updated', packages: 3 });
  expect((await update()).out.fast_304).toBe(true);
});

test('the local state changed (an install): the full path recomputes what upgrade would do', async () => {
  expect((await w.run(['install', 'tis-one'])).code).toBe(0);
  const r = await update();
  expect(r.out.fast_304).toBeUndefined();
  expect((await update()).out.fast_304).toBe(true);
});

test('the ini changed: the full path runs', async () => {
  await w.configure({ use_hostpackages: 0, timeout: 6 });
  expect((await update()).out.fast_304).toBeUndefined();
  expect((await update()).out.fast_304).toBe(true);
});

test('a corrupt side file is ignored and written anew by the full path', async () => {
  await fs.writeFile(side, '{"v":1,"files":');
  expect((await update()).out.fast_304).toBeUndefined();
  expect(JSON.parse(await fs.readFile(side, 'utf8')).v).toBe(1);
});

test('a side file older than an hour is not believed', async () => {
  const v = JSON.parse(await fs.readFile(side, 'utf8'));
  v.written_at = new Date(Date.now() - 2 * 3600_000).toISOString();
  await fs.writeFile(side, JSON.stringify(v), { mode: 0o600 });
  expect((await update()).out.fast_304).toBeUndefined();
});

test('a link planted in its place is not followed: ignored, then replaced by our own file', async () => {
  const bait = path.join(w.dir, 'bait.json');
  await fs.writeFile(bait, await fs.readFile(side));
  await fs.rm(side);
  await fs.symlink(bait, side);
  expect((await update()).out.fast_304).toBeUndefined();
  expect((await fs.lstat(side)).isSymbolicLink()).toBe(false);
  expect((await fs.lstat(bait)).isFile()).toBe(true);
});

test('a repository that fails removes the side file: the next run is a full one again', async () => {
  await w.configure({ use_hostpackages: 0, repo_url: 'https://127.0.0.1:9/absent' });
  const r = await w.run(['update'], { json: true });
  expect(r.code).not.toBe(0);
  await expect(fs.stat(side)).rejects.toThrow();
  await w.configure({ use_hostpackages: 0 });
});

test('a pinned certificate: the probe is answered under the pin, and a server showing another certificate is never taken for a 304', async () => {
  await w.configure({ use_hostpackages: 0, verify_cert: w.tls.serverCert });
  await update();
  expect((await update()).out.fast_304).toBe(true);
  // the pin now names another leaf: the probe must not answer, and the full path refuses the server
  await w.configure({ use_hostpackages: 0, verify_cert: w.pki.codesigner.certPath });
  const side2 = JSON.parse(await fs.readFile(side, 'utf8'));
  side2.ini_sha256 = (await import('node:crypto'))
    .createHash('sha256')
    .update(await fs.readFile(w.configPath))
    .digest('hex');
  await fs.writeFile(side, JSON.stringify(side2), { mode: 0o600 }); // as if the ini had always said so
  const r = await w.run(['update'], { json: true });
  expect(r.code).toBe(4); // EXIT.NETWORK, src/errors.ts
  expect(JSON.parse(r.stdout).fast_304).toBeUndefined();
  expect(JSON.parse(r.stdout).repos[0].error.code).toBe('TLS_PIN_MISMATCH');
  await w.configure({ use_hostpackages: 0 });
});
