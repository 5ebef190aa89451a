// Issue 8 §3 (W-F4): the host package is a second index, fetched as <host repo>/<uuid>.wapt
// from a repository that outranks every other. The real binary against a real nginx over
// HTTPS: a validly signed package under another name, an older host package, the same
// version with other bytes and setup code signed by a deployer are all refused, and a
// refusal leaves the previously accepted host package (DB row, cached file) untouched.
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/agent/db/index.js';
import { isHostPackageName } from '../../src/agent/update/index.js';
import { cleanupPki, signerOf } from '../helpers/pki.js';
import { forgePackage } from '../helpers/packages.js';
import { buildSpec, copyDir, dbdirOf, readRepoRow, signedScan, startSite, type Site } from '../agent/update-repo-fixture.js';

const UUID = '0A1B2C3D-1111-2222-3333-444455556666';
let site: Site;
let base: string;
let n = 0;

beforeAll(async () => {
  site = await startSite(await mkdtemp(join(tmpdir(), 'wapt-hostpkg-')));
  base = join(site.dir, 'base');
  const work = join(site.dir, 'work');
  await buildSpec(site.pki, work, base, { name: 'tis-lib', version: '1.0-1' });
  await buildSpec(site.pki, work, base, { name: 'tis-app', version: '2.0-1', fields: { depends: 'tis-lib' } });
}, 120_000);

afterAll(async () => {
  await site?.nginx.stop();
  if (site) {
    cleanupPki(site.pki);
    await rm(site.dir, { recursive: true, force: true });
  }
});

/** A client with its own repository <name> (signed index of the base packages) and host repository <name>-host. */
async function client(name: string): Promise<{ cfg: string; hostDir: string }> {
  const dir = join(site.www, name);
  await copyDir(base, dir);
  await signedScan(site.pki, dir);
  const hostDir = join(site.www, `${name}-host`);
  await mkdir(hostDir, { recursive: true });
  const cfg = await site.config(name, name, { use_hostpackages: '1', host_uuid: UUID });
  return { cfg, hostDir };
}

/** Builds (and signs) one package; returns its path. */
async function build(spec: Parameters<typeof buildSpec>[3]): Promise<string> {
  return buildSpec(site.pki, join(site.dir, 'work'), join(site.dir, `hostbuild-${++n}`), spec);
}

/** Publishes `file` in the host repository as <uuid>.wapt (what a mirror, or an attacker holding a signing key, could serve); returns its bytes. */
async function serve(hostDir: string, file: string): Promise<Buffer> {
  await copyFile(file, join(hostDir, `${UUID}.wapt`));
  return readFile(file);
}

const hostSpec = (version: string, extra: Partial<Parameters<typeof buildSpec>[3]> = {}) => ({
  name: UUID,
  version,
  fields: { section: 'host', depends: 'tis-app' },
  ...extra,
});

function hostResult(data: any): any {
  return data.repos.find((r: any) => r.repo === 'wapt-host');
}

async function hostRows(name: string) {
  return (await readRepoRow(dbdirOf(site, name), 'wapt-host')).all.filter((a) => a.repo === 'wapt-host');
}

async function cachedHostFile(name: string): Promise<Buffer> {
  return readFile(join(dbdirOf(site, name), 'cache', `${UUID}.wapt`));
}

describe('W-F4 host package name: it may only be this host', () => {
  test('attack: a validly signed `tis-app 9.9-1` served as <uuid>.wapt is refused (HOST_PACKAGE_MISMATCH) and never offered to install', async () => {
    const { cfg, hostDir } = await client('impostor');
    await serve(hostDir, await build({ name: 'tis-app', version: '9.9-1', fields: { depends: 'tis-lib' } }));
    const r = await site.json(cfg, ['update']);
    expect(hostResult(r.data)).toMatchObject({ status: 'failed', error: { code: 'HOST_PACKAGE_MISMATCH' } });
    expect(r.code).toBe(3);
    expect(await hostRows('impostor')).toEqual([]);
    const plan = await site.json(cfg, ['install', '--dry-run', 'tis-app']);
    expect(JSON.stringify(plan.data)).not.toContain('9.9-1');
    expect(JSON.stringify(plan.data)).toContain('2.0-1');
  });

  test('attack: a wrongly named host row already in the DB (stored by an older wapt-get) is never a candidate for that name', async () => {
    const { cfg } = await client('legacy');
    expect((await site.json(cfg, ['update'])).code).toBe(0);
    // plant what the old code accepted: wapt-host entry `tis-app 9.9-1`
    const db = await openDb(join(dbdirOf(site, 'legacy'), 'waptdb.sqlite'));
    try {
      const [app] = db.available.all().filter((a) => a.package === 'tis-app');
      const control = app!.control.replace(/^version\s*:.*$/m, 'version: 9.9-1');
      const { repo: _repo, ...row } = app!;
      db.available.replaceRepo('wapt-host', [{ ...row, version: '9.9-1', control, filename: `${UUID}.wapt` }]);
      await db.persist();
    } finally {
      db.close();
    }
    const plan = await site.json(cfg, ['install', '--dry-run', 'tis-app']);
    expect(JSON.stringify(plan.data)).not.toContain('9.9-1');
    expect(JSON.stringify(plan.data)).toContain('2.0-1');
  });

  test('genuine: named after the host UUID (any case) is accepted; the FQDN qualifies, a bare hostname does not', async () => {
    const { cfg, hostDir } = await client('genuine');
    await serve(hostDir, await build(hostSpec('1-1', { name: UUID.toLowerCase() })));
    const r = await site.json(cfg, ['update']);
    expect(hostResult(r.data)).toMatchObject({ status: 'updated', packages: 1 });
    expect(r.code).toBe(0);
    expect(isHostPackageName('pc1.example.org', UUID, 'PC1.example.org')).toBe(true);
    expect(isHostPackageName('pc1', UUID, 'pc1')).toBe(false);
    expect(isHostPackageName('tis-app', UUID, 'pc1.example.org')).toBe(false);
  });
});

describe('W-F4 host package rollback: (version, signature_date) never goes back', () => {
  test('attack: an older host package after a newer one is refused (HOST_PACKAGE_ROLLBACK); the accepted one stays in the DB and the cache', async () => {
    const { cfg, hostDir } = await client('rollback');
    const older = await build(hostSpec('5-1'));
    const newer = await serve(hostDir, await build(hostSpec('6-1', { fields: { section: 'host', depends: 'tis-app,tis-lib' } })));
    expect(hostResult((await site.json(cfg, ['update'])).data)).toMatchObject({ status: 'updated', packages: 1 });
    await serve(hostDir, older);
    const r = await site.json(cfg, ['update']);
    expect(hostResult(r.data)).toMatchObject({ status: 'failed', error: { code: 'HOST_PACKAGE_ROLLBACK' } });
    expect(r.code).toBe(3);
    expect(await hostRows('rollback')).toEqual([expect.objectContaining({ package: UUID, version: '6-1', depends: 'tis-app,tis-lib' })]);
    expect((await cachedHostFile('rollback')).equals(newer)).toBe(true);
  });

  test('attack: after a 404 (host package withdrawn) an older one is still refused: the last accepted pair outlives the entry', async () => {
    const { cfg, hostDir } = await client('withdrawn');
    const older = await build(hostSpec('5-1'));
    await serve(hostDir, await build(hostSpec('6-1')));
    expect(hostResult((await site.json(cfg, ['update'])).data)).toMatchObject({ status: 'updated', packages: 1 });
    await rm(join(hostDir, `${UUID}.wapt`));
    expect(hostResult((await site.json(cfg, ['update'])).data)).toMatchObject({ status: 'updated', packages: 0 });
    await serve(hostDir, older);
    const r = await site.json(cfg, ['update']);
    expect(hostResult(r.data)).toMatchObject({ status: 'failed', error: { code: 'HOST_PACKAGE_ROLLBACK' } });
    expect(await hostRows('withdrawn')).toEqual([]);
  });

  test('attack: the same version with its older signature (6-1 signed earlier, replayed after a re-signed 6-1) is refused', async () => {
    const { cfg, hostDir } = await client('resigned');
    const first = await build(hostSpec('6-1'));
    await new Promise((r) => setTimeout(r, 20)); // a later signature_date
    const second = await serve(hostDir, await build(hostSpec('6-1', { files: { 'data/readme.txt': 'second signing\n' } })));
    expect(hostResult((await site.json(cfg, ['update'])).data)).toMatchObject({ status: 'updated', packages: 1 });
    await serve(hostDir, first);
    const r = await site.json(cfg, ['update']);
    expect(hostResult(r.data)).toMatchObject({ status: 'failed', error: { code: 'HOST_PACKAGE_ROLLBACK' } });
    expect((await cachedHostFile('resigned')).equals(second)).toBe(true);
  });

  test('genuine: a newer host package replaces the accepted one; the same file served again (cache lost, HTTP 200) is accepted', async () => {
    const { cfg, hostDir } = await client('forward');
    await serve(hostDir, await build(hostSpec('5-1')));
    expect(hostResult((await site.json(cfg, ['update'])).data)).toMatchObject({ status: 'updated' });
    const six = await serve(hostDir, await build(hostSpec('6-1')));
    expect(hostResult((await site.json(cfg, ['update'])).data)).toMatchObject({ status: 'updated', packages: 1 });
    expect(await hostRows('forward')).toEqual([expect.objectContaining({ version: '6-1' })]);
    await rm(join(dbdirOf(site, 'forward'), 'cache', `${UUID}.wapt`));
    const again = await site.json(cfg, ['update']);
    expect(hostResult(again.data)).toMatchObject({ status: 'updated', packages: 1 });
    expect((await cachedHostFile('forward')).equals(six)).toBe(true);
  });
});

describe('W-D5 applies to host packages as everywhere', () => {
  test('attack: a host package with setup.mjs signed by a deployer key is refused (CODESIGNING_REQUIRED), state untouched', async () => {
    const { cfg, hostDir } = await client('hostcode');
    await serve(hostDir, await build(hostSpec('1-1')));
    expect(hostResult((await site.json(cfg, ['update'])).data)).toMatchObject({ status: 'updated' });
    const accepted = await cachedHostFile('hostcode');
    // build-package refuses this; the holder of a deployer key can still zip and sign it by hand
    const built = await build(hostSpec('2-1'));
    await forgePackage(
      built,
      join(hostDir, `${UUID}.wapt`),
      { add: { 'setup.mjs': 'export async function install() {}\n' } },
      { signer: signerOf(site.pki.deployer), resignControl: true },
    );
    const r = await site.json(cfg, ['update']);
    expect(hostResult(r.data)).toMatchObject({ status: 'failed', error: { code: 'CODESIGNING_REQUIRED' } });
    expect(await hostRows('hostcode')).toEqual([expect.objectContaining({ version: '1-1' })]);
    expect((await cachedHostFile('hostcode')).equals(accepted)).toBe(true);
  });
});
