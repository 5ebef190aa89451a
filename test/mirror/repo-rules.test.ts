// repo_rules (issue 12 §5): a host picks a site mirror by its network, falls back to the next
// candidate and finally repo_url; whoever serves the bytes, the statement is judged as the
// origin's (same pins, same rollback state keyed by the repository identity).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/agent/config.js';
import { openDb } from '../../src/agent/db/index.js';
import { candidateUrls } from '../../src/agent/update/repo-rules.js';
import { freePort } from '../helpers/nginx.js';
import { makeMirrorWorld, waptGets, type MirrorWorld } from './mirror-world.js';

describe('choosing the URL (host addresses injected)', () => {
  const repo = {
    url: 'https://origin/wapt',
    rules: [
      { network: '10.1.0.0/16', url: 'https://mirror-lyon/wapt' },
      { network: '10.2.0.0/16', url: 'https://mirror-paris/wapt' },
      { network: 'fd00:1::/32', url: 'https://mirror-v6/wapt' },
    ],
  };
  test('a host in a rule network gets that mirror first, repo_url last', () => {
    expect(candidateUrls(repo, ['127.0.0.1', '10.1.7.9'])).toEqual(['https://mirror-lyon/wapt', 'https://origin/wapt']);
    expect(candidateUrls(repo, ['10.2.0.1', '10.1.0.1'])).toEqual(['https://mirror-lyon/wapt', 'https://mirror-paris/wapt', 'https://origin/wapt']);
    expect(candidateUrls(repo, ['fd00:1:0:0::5'])).toEqual(['https://mirror-v6/wapt', 'https://origin/wapt']);
  });
  test('a host outside every rule network uses repo_url only', () => {
    expect(candidateUrls(repo, ['192.168.1.4', '10.3.0.1', '::1'])).toEqual(['https://origin/wapt']);
    expect(candidateUrls({ url: 'https://origin/wapt' }, ['10.1.0.1'])).toEqual(['https://origin/wapt']);
  });
  test('repo_rules in the ini: parsed per section, a malformed rule is CONFIG_INVALID naming the key', async () => {
    const dir = path.join(process.env.TMPDIR ?? '/tmp', `rules-${process.pid}`);
    const ini = `${dir}.ini`;
    await writeFile(
      ini,
      '[global]\nrepo_url = https://origin/wapt\nrepo_rules = 10.1.0.0/16 https://mirror-lyon/wapt/, 10.2.0.0/16 https://mirror-paris/wapt\n',
    );
    const cfg = await loadConfig({ path: ini, env: {}, isRoot: false });
    expect(cfg.repos[0]!.rules).toEqual([
      { network: '10.1.0.0/16', url: 'https://mirror-lyon/wapt' },
      { network: '10.2.0.0/16', url: 'https://mirror-paris/wapt' },
    ]);
    expect(cfg.warnings).toEqual([]);
    for (const bad of ['10.1.0.0 https://m', '10.1.0.0/33 https://m', 'https://m', '10.1.0.0/16 ftp://m']) {
      await writeFile(ini, `[global]\nrepo_url = https://origin/wapt\nrepo_rules = ${bad}\n`);
      await expect(loadConfig({ path: ini, env: {}, isRoot: false })).rejects.toMatchObject({ code: 'CONFIG_INVALID', detail: { key: 'repo_rules' } });
    }
  });
});

describe('through the real binary (the loopback interface is this host address)', () => {
  let w: MirrorWorld;
  let client = 0;
  /** A fresh client (own DB and cache) with these [global] keys. */
  const fresh = async (extra: Record<string, string>) => {
    client++;
    await w.env.configure({ dbdir: path.join(w.env.dir, `client-${client}`), cachedir: path.join(w.env.dir, `cache-${client}`), ...extra });
  };

  beforeAll(async () => {
    w = await makeMirrorWorld();
    await w.publish([{ name: 'tis-one', version: '1.0-1' }]);
    expect((await w.mirror()).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await w?.stop();
  });

  test('a host in the rule subnet updates and installs from the mirror; the origin serves nothing', async () => {
    await fresh({ repo_rules: `10.99.0.0/16 https://127.0.0.1:1/nowhere, 127.0.0.0/8 ${w.served.url}` });
    const from = (await w.env.nginx.readAccessLog()).length;
    const up = await w.env.run(['update'], { json: true });
    expect(up.code).toBe(0);
    expect(JSON.parse(up.stdout).repos[0]).toMatchObject({ url: w.served.url, signed: true, packages: 1 });
    const servedFrom = (await w.served.readAccessLog()).length;
    expect((await w.env.run(['install', 'tis-one'])).code).toBe(0);
    expect(await waptGets(w.served, servedFrom)).toEqual(['tis-one_1.0-1.wapt']);
    expect((await w.env.nginx.readAccessLog()).slice(from)).toEqual([]);
  });

  test('a host outside the rule subnet uses repo_url', async () => {
    await fresh({ repo_rules: `10.99.0.0/16 ${w.served.url}` });
    const up = await w.env.run(['update'], { json: true });
    expect(up.code).toBe(0);
    expect(JSON.parse(up.stdout).repos[0]).toMatchObject({ url: w.env.nginx.url, packages: 1 });
  });

  test('a dead mirror falls back to the origin (the failure is reported in tried)', async () => {
    const dead = `https://127.0.0.1:${await freePort()}`;
    await fresh({ repo_rules: `127.0.0.0/8 ${dead}` });
    const up = await w.env.run(['update'], { json: true });
    expect(up.code).toBe(0);
    const repo = JSON.parse(up.stdout).repos[0];
    expect(repo).toMatchObject({ url: w.env.nginx.url, status: 'updated', packages: 1 });
    expect(repo.tried).toEqual([expect.objectContaining({ url: dead })]);
    expect((await w.env.run(['install', 'tis-one'])).code).toBe(0);
  });

  test('a lagging mirror (older, unexpired statement) is accepted and its age reported by update and doctor', async () => {
    await new Promise((r) => setTimeout(r, 2100));
    await w.publish([{ name: 'tis-two', version: '1.0-1' }]); // the origin moves on; the mirror lags
    await fresh({ repo_rules: `127.0.0.0/8 ${w.served.url}` });
    const up = await w.env.run(['update'], { json: true });
    expect(up.code).toBe(0);
    const repo = JSON.parse(up.stdout).repos[0];
    expect(repo).toMatchObject({ url: w.served.url, packages: 1 });
    expect((Date.now() - Date.parse(repo.index_created)) / 1000).toBeGreaterThanOrEqual(2);
    const human = await w.env.run(['update']);
    expect(human.stdout).toMatch(/signed index v\d+, signed \d+ s ago, expires/);
    const doc = await w.env.run(['doctor'], { json: true });
    const check = JSON.parse(doc.stdout).checks.find((c: { check: string }) => c.check === 'index global');
    expect(check.detail).toMatchObject({ served_by: w.served.url });
    expect(check.detail.statement_age_s).toBeGreaterThanOrEqual(2);
    expect(check.message).toMatch(new RegExp(`served by ${w.served.url.replace(/[.]/g, '\\.')}, statement signed \\d+ s ago`));
  });

  test('a mirror serving a statement older than one already accepted is refused (INDEX_ROLLBACK), the origin serves', async () => {
    await fresh({});
    const direct = await w.env.run(['update'], { json: true }); // the origin's newer statement first
    expect(direct.code).toBe(0);
    const version = JSON.parse(direct.stdout).repos[0].index_version;
    await w.env.configure({
      dbdir: path.join(w.env.dir, `client-${client}`),
      cachedir: path.join(w.env.dir, `cache-${client}`),
      repo_rules: `127.0.0.0/8 ${w.served.url}`,
    });
    const up = await w.env.run(['update'], { json: true });
    expect(up.code).toBe(0);
    const repo = JSON.parse(up.stdout).repos[0];
    expect(repo.tried).toEqual([expect.objectContaining({ url: w.served.url, code: 'INDEX_ROLLBACK' })]);
    expect(repo).toMatchObject({ url: w.env.nginx.url, index_version: version, packages: 2 });
    // with the origin unreachable too, the rollback is the answer and the accepted index stays
    await w.env.configure({
      dbdir: path.join(w.env.dir, `client-${client}`),
      cachedir: path.join(w.env.dir, `cache-${client}`),
      repo_url: `https://127.0.0.1:${await freePort()}`,
      repo_rules: `127.0.0.0/8 ${w.served.url}`,
    });
    const alone = await w.env.run(['update'], { json: true });
    expect(alone.code).not.toBe(0);
    expect(JSON.parse(alone.stdout).repos[0].tried).toEqual([expect.objectContaining({ code: 'INDEX_ROLLBACK' })]);
    const db = await openDb(path.join(w.env.dir, `client-${client}`, 'waptdb.sqlite'));
    expect(db.repos.get('global')).toMatchObject({ url: w.env.nginx.url, index_version: version });
    db.close();
  });
});
