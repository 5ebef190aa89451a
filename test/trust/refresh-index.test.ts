// Issue 11 §5 + issue 8 §1: `wapt-get refresh-index` renews version and expiry of the
// signed index with a freshness-only key (TUF's timestamp role); clients accept it
// only from a certificate they pin as index_freshness_signer, and a freshness key alone
// can never publish another package set. Real binary, real nginx over HTTPS.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateToPem, generateRsaKeyPair, issueCertificate, privateKeyToEncryptedPem } from '../../src/crypto/index.js';
import { readPackagesZip, writePackagesZipBytes } from '../../src/repo/index-file/packages-zip.js';
import { createFreshness, FRESHNESS_MEMBER } from '../../src/repo/statement/freshness.js';
import { parseStatement } from '../../src/repo/statement/statement.js';
import { cleanupPki, type Identity } from '../helpers/pki.js';
import { runCli } from '../helpers/cli.js';
import { buildSpec, copyDir, DAY, dbdirOf, readRepoRow, rewriteZip, signedScan, startSite, type Site } from '../agent/update-repo-fixture.js';

let site: Site;
let base: string;
/** No code signing, issued by a CA clients do not trust for packages: good for nothing but freshness. */
let fresh: Identity;

beforeAll(async () => {
  site = await startSite(await mkdtemp(join(tmpdir(), 'wapt-refresh-')));
  base = join(site.dir, 'base');
  const work = join(site.dir, 'work');
  await buildSpec(site.pki, work, base, { name: 'tis-app', version: '1.0-1' });
  await buildSpec(site.pki, work, base, { name: 'tis-secfix', version: '2.0-1' });
  const key = await generateRsaKeyPair();
  const cert = await issueCertificate({ commonName: 'index-freshness', publicKey: key.publicKey, issuer: site.pki.otherCa, codeSigning: false });
  const keyPath = join(site.dir, 'fresh.pem');
  const certPath = join(site.dir, 'fresh.crt');
  await writeFile(keyPath, privateKeyToEncryptedPem(key.privateKey, ''), { mode: 0o600 });
  await writeFile(certPath, certificateToPem(cert));
  fresh = { cert, privateKey: key.privateKey, keyPath, certPath };
}, 120_000);

afterAll(async () => {
  await site?.nginx.stop();
  if (site) {
    cleanupPki(site.pki);
    await rm(site.dir, { recursive: true, force: true });
  }
});

const FRESH_KEY = () => ['--key', fresh.keyPath, '--cert', fresh.certPath];

function refresh(dir: string, extra: string[] = []) {
  return runCli(['--json', 'refresh-index', dir, ...extra], { env: { WAPT_GET_CONFIG: join(site.dir, 'none.ini') } });
}

async function servedRepo(name: string, opts: { now?: Date; expiresInMs?: number } = {}): Promise<string> {
  const dir = join(site.www, name);
  await copyDir(base, dir);
  await signedScan(site.pki, dir, opts);
  return dir;
}

describe('refresh-index: renewing freshness without the content key', () => {
  test('renews version and expiry, Packages bytes and statement unchanged; a client pinning the freshness cert accepts it', async () => {
    const dir = await servedRepo('renew');
    const before = await readPackagesZip(join(dir, 'Packages'));
    const cfg = await site.config('renew', 'renew', { index_freshness_signer: fresh.certPath });
    const first = await site.json(cfg, ['update']);
    expect(first.code).toBe(0);
    const r = await refresh(dir, [...FRESH_KEY(), '--expires', '3d']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.version).toBeGreaterThan(first.data.repos[0].index_version);
    const after = await readPackagesZip(join(dir, 'Packages'));
    expect(after.packagesBytes.equals(before.packagesBytes)).toBe(true);
    expect(after.statement!.bytes.equals(before.statement!.bytes)).toBe(true);
    expect(after.statement!.freshness).toBeTruthy();
    const u = await site.json(cfg, ['update']);
    expect(u.code).toBe(0);
    expect(u.data.repos[0]).toMatchObject({ status: 'updated', index_version: out.version, index_expires: out.expires, packages: 2 });
  });

  test('an index whose own statement expired is kept alive by a renewed freshness statement', async () => {
    const dir = await servedRepo('expired-content', { now: new Date(Date.now() - 3 * DAY), expiresInMs: DAY });
    const cfg = await site.config('expired-content', 'expired-content', { index_freshness_signer: fresh.certPath });
    expect((await site.json(cfg, ['update'])).data.error.code).toBe('INDEX_EXPIRED');
    expect((await refresh(dir, FRESH_KEY())).code).toBe(0);
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
  });

  test('a client that pins no index_freshness_signer refuses the freshness statement (SIGNER_NOT_ALLOWED), DB unchanged', async () => {
    const dir = await servedRepo('unpinned');
    const cfg = await site.config('unpinned', 'unpinned');
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    const db = await readFile(join(dbdirOf(site, 'unpinned'), 'waptdb.sqlite'));
    expect((await refresh(dir, FRESH_KEY())).code).toBe(0);
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.data.error.code).toBe('SIGNER_NOT_ALLOWED');
    expect((await readFile(join(dbdirOf(site, 'unpinned'), 'waptdb.sqlite'))).equals(db)).toBe(true);
  });

  test('refresh-index refuses a code-signing key: it could sign the content itself (SIGNER_NOT_ALLOWED)', async () => {
    const dir = await servedRepo('codesign-refresh');
    const r = await refresh(dir, ['--key', site.pki.codesigner.keyPath, '--cert', site.pki.codesigner.certPath]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.code).toBe('SIGNER_NOT_ALLOWED');
  });
});

describe('a freshness key alone cannot publish a changed package set', () => {
  const dropSecfix = (text: string) =>
    text
      .split('\n\n')
      .filter((b) => !/^package\s*:\s*tis-secfix$/m.test(b))
      .join('\n\n')
      .replace(/\n*$/, '\n');

  test('refresh-index over an edited Packages → INDEX_DIGEST_MISMATCH, nothing written', async () => {
    const dir = await servedRepo('edited');
    const path = join(dir, 'Packages');
    await rewriteZip(path, `${path}.x`, (name, data) => (name === 'Packages' ? Buffer.from(dropSecfix(data.toString('utf8'))) : data));
    await copyFile(`${path}.x`, path);
    const edited = await readFile(path);
    const r = await refresh(dir, FRESH_KEY());
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.code).toBe('INDEX_DIGEST_MISMATCH');
    expect((await readFile(path)).equals(edited)).toBe(true);
  });

  test('scanpackages --sign with the freshness key → SIGNER_NOT_ALLOWED', async () => {
    const dir = await servedRepo('fresh-scan');
    const r = await runCli(['--json', 'scanpackages', dir, '--sign', ...FRESH_KEY()], { env: { WAPT_GET_CONFIG: join(site.dir, 'none.ini') } });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error.code).toBe('SIGNER_NOT_ALLOWED');
  });

  test('a censored index whose statement the freshness key signed → refused by the client (SIGNER_NOT_ALLOWED), the fix stays offered', async () => {
    const dir = await servedRepo('fresh-content');
    const cfg = await site.config('fresh-content', 'fresh-content', { index_freshness_signer: fresh.certPath });
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    const idx = await readPackagesZip(join(dir, 'Packages'));
    const prev = parseStatement(idx.statement!.bytes).version;
    await writePackagesZipBytes(join(dir, 'Packages'), {
      packagesBytes: Buffer.from(dropSecfix(idx.packagesBytes.toString('utf8'))),
      certificates: [...idx.certificates.values()],
      statement: { key: fresh.privateKey, cert: fresh.cert, expiresInMs: DAY, previousVersion: prev, repository: 'fresh-content' },
    });
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.data.error.code).toBe('SIGNER_NOT_ALLOWED');
    expect((await readRepoRow(dbdirOf(site, 'fresh-content'), 'global')).all.map((a) => a.package)).toContain('tis-secfix');
  });

  test('a freshness statement vouching for an edited Packages beside the genuine statement → INDEX_DIGEST_MISMATCH', async () => {
    const dir = await servedRepo('fresh-edit');
    const cfg = await site.config('fresh-edit', 'fresh-edit', { index_freshness_signer: fresh.certPath });
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    const path = join(dir, 'Packages');
    const idx = await readPackagesZip(path);
    const genuine = parseStatement(idx.statement!.bytes);
    const editedText = Buffer.from(dropSecfix(idx.packagesBytes.toString('utf8')));
    // The freshness key signs a statement over the edited bytes and renews "it"; the content statement is the genuine one.
    const { sha256Hex } = await import('../../src/repo/statement/statement.js');
    const made = createFreshness({
      statement: { bytes: idx.statement!.bytes, fields: { ...genuine, packages_sha256: sha256Hex(editedText) } },
      previousVersion: genuine.version,
      expiresInMs: DAY,
      key: fresh.privateKey,
      cert: fresh.cert,
    });
    await rewriteZip(path, `${path}.x`, (name, data) => (name === 'Packages' ? editedText : data));
    const { PackageZip } = await import('../../src/package/zip-reader.js');
    const { writeZip } = await import('../../src/package/zip-writer.js');
    const zip = await PackageZip.open(`${path}.x`);
    const inputs: { name: string; source: { buffer: Buffer } }[] = [];
    for (const m of zip.members) if (!m.isDirectory) inputs.push({ name: m.name, source: { buffer: await zip.readMember(m.name, 1 << 26) } });
    zip.close();
    inputs.push({ name: FRESHNESS_MEMBER, source: { buffer: made.bytes } }, { name: `${FRESHNESS_MEMBER}.sig`, source: { buffer: made.signature } });
    inputs.push({ name: 'ssl/fresh.crt', source: { buffer: Buffer.from(certificateToPem(fresh.cert)) } });
    await writeZip(path, inputs, { mtime: new Date() });
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.data.error.code).toBe('INDEX_DIGEST_MISMATCH');
    expect((await readRepoRow(dbdirOf(site, 'fresh-edit'), 'global')).all.map((a) => a.package)).toContain('tis-secfix');
  });
});

// Found by the red-team review: the freshness key re-signs an OLD genuine statement (even an
// expired one) to bring back an older package set. The content statement's own version is
// tracked apart from the freshness version, so that is a rollback (TUF: timestamp-key
// compromise must not allow snapshot rollback).
describe('a freshness key cannot roll clients back to an older package set', () => {
  test('renewing an older genuine Packages → INDEX_ROLLBACK, the newer package set (with the fix) kept', async () => {
    const dir = join(site.www, 'fresh-rollback');
    const work = join(site.dir, 'work');
    await buildSpec(site.pki, work, dir, { name: 'tis-app', version: '1.0-1' });
    await signedScan(site.pki, dir, { now: new Date(Date.now() - 2 * 3_600_000) });
    const old = await readFile(join(dir, 'Packages'));
    const cfg = await site.config('fresh-rollback', 'fresh-rollback', { index_freshness_signer: fresh.certPath });
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    await buildSpec(site.pki, work, dir, { name: 'tis-secfix', version: '2.0-1' });
    await signedScan(site.pki, dir);
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    expect((await readRepoRow(dbdirOf(site, 'fresh-rollback'), 'global')).all.map((a) => a.package)).toContain('tis-secfix');
    // The attacker holds only the freshness key and an old Packages file.
    await writeFile(join(dir, 'Packages'), old);
    expect((await refresh(dir, FRESH_KEY())).code).toBe(0);
    const db = await readFile(join(dbdirOf(site, 'fresh-rollback'), 'waptdb.sqlite'));
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.data.error.code).toBe('INDEX_ROLLBACK');
    expect((await readFile(join(dbdirOf(site, 'fresh-rollback'), 'waptdb.sqlite'))).equals(db)).toBe(true);
  });

  test('refresh-index refuses a lifetime over 31 days (USAGE): the online key signs only short-lived statements', async () => {
    const dir = await servedRepo('fresh-long');
    const r = await refresh(dir, [...FRESH_KEY(), '--expires', '60d']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('USAGE');
  });

  test('a client refuses a freshness statement that lives longer than 31 days (INDEX_INVALID), DB unchanged', async () => {
    const dir = await servedRepo('fresh-forever');
    const cfg = await site.config('fresh-forever', 'fresh-forever', { index_freshness_signer: fresh.certPath });
    expect((await site.cli(cfg, ['update'])).code).toBe(0);
    const path = join(dir, 'Packages');
    const idx = await readPackagesZip(path);
    const genuine = parseStatement(idx.statement!.bytes);
    const { sha256Hex } = await import('../../src/repo/statement/statement.js');
    const { serializeFreshness } = await import('../../src/repo/statement/freshness.js');
    const { signSha256 } = await import('../../src/crypto/index.js');
    const now = new Date();
    // Made by hand: createFreshness itself refuses such a lifetime.
    const bytes = serializeFreshness({
      format: 1,
      repository: genuine.repository,
      version: Math.floor(now.getTime() / 1000),
      created: now.toISOString(),
      expires: new Date(now.getTime() + 3650 * DAY).toISOString(),
      statement_sha256: sha256Hex(idx.statement!.bytes),
      packages_sha256: genuine.packages_sha256,
      signer_fingerprint: (await import('../../src/crypto/index.js')).fingerprintSha256(fresh.cert),
    });
    const sig = Buffer.from(signSha256(fresh.privateKey, bytes).toString('base64') + '\n');
    const { PackageZip } = await import('../../src/package/zip-reader.js');
    const { writeZip } = await import('../../src/package/zip-writer.js');
    const zip = await PackageZip.open(path);
    const inputs: { name: string; source: { buffer: Buffer } }[] = [];
    for (const m of zip.members) if (!m.isDirectory) inputs.push({ name: m.name, source: { buffer: await zip.readMember(m.name, 1 << 26) } });
    zip.close();
    inputs.push({ name: FRESHNESS_MEMBER, source: { buffer: bytes } }, { name: `${FRESHNESS_MEMBER}.sig`, source: { buffer: sig } });
    inputs.push({ name: 'ssl/fresh.crt', source: { buffer: Buffer.from(certificateToPem(fresh.cert)) } });
    await writeZip(path, inputs, { mtime: new Date() });
    const db = await readFile(join(dbdirOf(site, 'fresh-forever'), 'waptdb.sqlite'));
    const r = await site.json(cfg, ['update']);
    expect(r.code).toBe(3);
    expect(r.data.error.code).toBe('INDEX_INVALID');
    expect((await readFile(join(dbdirOf(site, 'fresh-forever'), 'waptdb.sqlite'))).equals(db)).toBe(true);
  });
});
