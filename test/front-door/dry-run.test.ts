// Issue 11 §6: --dry-run on update, download, register and update-status changes nothing;
// `install NAME` with an older version installed and a newer eligible one upgrades it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { cleanupPki } from '../helpers/pki.js';

let w: AgentEnv;
beforeAll(async () => {
  w = await makeAgentEnv();
  await w.publish({ name: 'tis-dry', version: '1.0-1' });
});
afterAll(async () => {
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

test('update --dry-run names what it would fetch and writes no DB', async () => {
  const r = await w.run(['update', '--dry-run'], { json: true });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ dry_run: true, repositories: [{ repo: 'global', url: `${w.nginx.url}/Packages`, stored: 'never fetched' }] });
  expect(existsSync(w.dbPath)).toBe(false);
});

test('download --dry-run says what would be downloaded and fetches nothing', async () => {
  expect((await w.run(['update'])).code).toBe(0);
  const r = await w.run(['download', '--dry-run', 'tis-dry'], { json: true });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true, downloads: [{ package: 'tis-dry', version: '1.0-1', status: 'would-download' }] });
  expect((existsSync(w.cacheDir) ? readdirSync(w.cacheDir) : []).filter((f) => f.includes('.wapt'))).toEqual([]);
});

test('install NAME with an older version installed and a newer eligible one upgrades it (as apt-get does)', async () => {
  expect((await w.run(['install', 'tis-dry'])).code).toBe(0);
  await w.publish({ name: 'tis-dry', version: '2.0-1' });
  expect((await w.run(['update'])).code).toBe(0);
  const r = await w.run(['install', 'tis-dry'], { json: true });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).results).toEqual([expect.objectContaining({ package: 'tis-dry', version: '2.0-1', action: 'upgrade', status: 'OK' })]);
  // a satisfied requirement is left alone
  await w.publish({ name: 'tis-dry', version: '3.0-1' });
  expect((await w.run(['update'])).code).toBe(0);
  const kept = await w.run(['install', 'tis-dry(>=2)'], { json: true });
  expect(JSON.parse(kept.stdout).results).toEqual([]);
});

test('register and update-status --dry-run make no host key and send nothing', async () => {
  await w.configure({ wapt_server: 'https://127.0.0.1:9', host_uuid: '11111111-2222-3333-4444-555555555555' });
  try {
    for (const verb of ['register', 'update-status']) {
      const r = await w.run([verb, '--dry-run'], { json: true });
      expect({ verb, code: r.code }).toEqual({ verb, code: 0 });
      expect(JSON.parse(r.stdout)).toMatchObject({
        dry_run: true,
        server: 'https://127.0.0.1:9',
        host_uuid: '11111111-2222-3333-4444-555555555555',
        packages: 1,
      });
    }
    expect(existsSync(path.join(path.dirname(w.dbPath), 'host-identity'))).toBe(false);
    expect(readFileSync(w.configPath, 'utf8')).toContain('wapt_server');
  } finally {
    await w.configure();
  }
});

test('scanpackages --dry-run reads and checks every package, says what it would index, and writes nothing (Packages, cache)', async () => {
  const { buildTestPackage } = await import('../helpers/agent-env.js');
  const repo = path.join(w.dir, 'scan-dry');
  await buildTestPackage(w.pki, w.dir, repo, { name: 'tis-one', version: '1.0-1' });
  const first = await w.run(['scanpackages', repo, '--trusted', w.pki.trustedDir], { json: true });
  expect(first.code).toBe(0);
  await buildTestPackage(w.pki, w.dir, repo, { name: 'tis-two', version: '1.0-1' });
  const listing = () =>
    readdirSync(repo)
      .sort()
      .map((n) => `${n}:${readFileSync(path.join(repo, n)).length}`);
  const before = listing();
  const packages = readFileSync(path.join(repo, 'Packages'));
  const r = await w.run(['scanpackages', repo, '--trusted', w.pki.trustedDir, '--dry-run'], { json: true });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ dry_run: true, indexed: 2, written: false });
  expect(listing()).toEqual(before);
  expect(readFileSync(path.join(repo, 'Packages')).equals(packages)).toBe(true);
});
