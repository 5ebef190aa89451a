// W-F2 "entries whose file did not change may be reused": the scan cache, and
// the X2 statement written by the scanner.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustStore } from '../../src/crypto/index.js';
import { field } from '../../src/package/control.js';
import { PackageZip } from '../../src/package/zip-reader.js';
import { writeZip } from '../../src/package/zip-writer.js';
import { readPackagesZip } from '../../src/repo/index-file/packages-zip.js';
import { SCAN_CACHE_FILE } from '../../src/repo/scan/cache.js';
import { scanPackages } from '../../src/repo/scan/scan.js';
import { verifyStatement } from '../../src/repo/statement/statement.js';

const CONF = join(process.cwd(), 'fixtures/conformance');
const KEYS = join(CONF, 'wapt-made/keys');
const DAY = 86_400_000;

let tmp: string;
let trust: TrustStore;
let key: KeyObject;
let cert: X509Certificate;
let n = 0;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-scan-inc-'));
  trust = await TrustStore.load(join(CONF, 'wapt-made/trusted'));
  key = createPrivateKey(await readFile(join(KEYS, 'codesigner.pem')));
  cert = new X509Certificate(await readFile(join(KEYS, 'codesigner.crt')));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function repoCopy(): Promise<string> {
  const dir = join(tmp, `repo-${++n}`);
  execFileSync('mkdir', [dir]);
  const src = join(CONF, 'wapt-made/repo');
  for (const f of (await readdir(src)).filter((f) => f.endsWith('.wapt'))) await copyFile(join(src, f), join(dir, f));
  return dir;
}

/** Same members, control edited: a valid zip whose control signature no longer verifies. */
async function tamper(path: string): Promise<void> {
  const zip = await PackageZip.open(path);
  const inputs: { name: string; source: { buffer: Buffer } }[] = [];
  for (const m of zip.members) {
    let data = await zip.readMember(m.name, 1 << 24);
    if (m.name === 'WAPT/control') data = Buffer.from(data.toString('utf8').replace(/^(description\s*: ).*$/m, '$1edited'));
    inputs.push({ name: m.name, source: { buffer: data } });
  }
  zip.close();
  await writeZip(path, inputs, { mtime: new Date('2026-02-02T00:00:00Z') });
}

describe('W-F2 incremental scan', () => {
  test('unchanged files are neither read nor hashed; an identical unsigned index is not rewritten', async () => {
    const dir = await repoCopy();
    const first = await scanPackages(dir, { trust });
    expect(first).toMatchObject({ hashed: 4, reusedFromCache: 0, written: true });
    const before = await stat(join(dir, 'Packages'));
    const second = await scanPackages(dir, { trust });
    expect(second).toMatchObject({ indexed: 4, hashed: 0, reusedFromCache: 4, written: false });
    expect((await stat(join(dir, 'Packages'))).mtimeMs).toBe(before.mtimeMs); // W-F3: clients see no new Last-Modified
  });

  test('touching one file re-hashes only that file, and the index bytes stay the same', async () => {
    const dir = await repoCopy();
    await scanPackages(dir, { trust });
    const before = await readPackagesZip(join(dir, 'Packages'));
    await utimes(join(dir, 'tis-extra_0.9-2_x64_DEV_fr.wapt'), new Date(), new Date(Date.now() + 5000));
    const res = await scanPackages(dir, { trust });
    expect(res).toMatchObject({ indexed: 4, hashed: 1, reusedFromCache: 3 });
    expect((await readPackagesZip(join(dir, 'Packages'))).packagesBytes.equals(before.packagesBytes)).toBe(true);
  });

  test('a replaced file gets its new digests; a deleted file leaves the index', async () => {
    const dir = await repoCopy();
    await scanPackages(dir, {});
    await copyFile(join(dir, 'tis-hello_1.2.3-4_PROD.wapt'), join(dir, 'tis-hello_1.10.0-1_PROD.wapt'));
    await unlink(join(dir, 'tis-extra_0.9-2_x64_DEV_fr.wapt'));
    const res = await scanPackages(dir, {});
    expect(res).toMatchObject({ indexed: 3, hashed: 1, reusedFromCache: 2, written: true });
    const idx = await readPackagesZip(res.path);
    const byFile = new Map(idx.entries.map((e) => [field(e, 'filename'), e]));
    expect(byFile.has('tis-extra_0.9-2_x64_DEV_fr.wapt')).toBe(false);
    // The copy carries the 1.2.3-4 control and md5: the index describes bytes, not names.
    expect(field(byFile.get('tis-hello_1.10.0-1_PROD.wapt')!, 'md5sum')).toBe(field(byFile.get('tis-hello_1.2.3-4_PROD.wapt')!, 'md5sum'));
  });

  test('cached entries are re-checked against the trust store of this scan', async () => {
    const dir = await repoCopy();
    expect((await scanPackages(dir, { trust })).indexed).toBe(4);
    const res = await scanPackages(dir, { trust: TrustStore.fromCertificates([]) });
    expect(res).toMatchObject({ indexed: 0, hashed: 0, reusedFromCache: 4 });
    expect(new Set(res.skipped.map((s) => s.code))).toEqual(new Set(['SIGNER_UNTRUSTED']));
  });

  test('an entry cached by a scan without trust is verified when trust is given', async () => {
    const dir = await repoCopy();
    await tamper(join(dir, 'tis-group-demo_3-1_PROD.wapt'));
    expect((await scanPackages(dir, {})).indexed).toBe(4);
    const res = await scanPackages(dir, { trust });
    expect(res).toMatchObject({ indexed: 3, hashed: 0 });
    expect(res.skipped).toEqual([expect.objectContaining({ file: 'tis-group-demo_3-1_PROD.wapt', code: 'CONTROL_SIGNATURE_INVALID' })]);
  });

  test('a corrupt cache is ignored with a warning and everything is read again', async () => {
    const dir = await repoCopy();
    const first = await scanPackages(dir, {});
    const bytes = (await readPackagesZip(first.path)).packagesBytes;
    await writeFile(join(dir, SCAN_CACHE_FILE), 'WAPTGET-SCANCACHE 1 999 999\n{"truncated');
    const warnings: string[] = [];
    const res = await scanPackages(dir, { onWarning: (m) => warnings.push(m) });
    expect(res).toMatchObject({ hashed: 4, reusedFromCache: 0 });
    expect(warnings.join('\n')).toContain(SCAN_CACHE_FILE);
    expect((await readPackagesZip(res.path)).packagesBytes.equals(bytes)).toBe(true);
  });
});

describe('X2 statement written by scanpackages', () => {
  test('signed scans verify, and each one raises the version even at the same instant or without the cache', async () => {
    const dir = await repoCopy();
    await copyFile(join(CONF, 'wapt-made/repo/Packages'), join(dir, 'Packages')); // WAPT's own index, no statement: replaced
    const now = new Date();
    const sign = { key, cert, expiresInMs: 7 * DAY, repository: 'main' };
    const first = await scanPackages(dir, { trust, sign, now });
    const idx = await readPackagesZip(first.path);
    const v1 = verifyStatement(idx.statement!.bytes, idx.statement!.signature, idx.packagesBytes, {
      trust,
      certificates: idx.certificates,
      now,
      lastSeenVersion: null,
      requireSigned: true,
    })!;
    expect(v1.version).toBe(first.statementVersion);
    expect(v1.expires.getTime()).toBe(now.getTime() + 7 * DAY);
    const second = await scanPackages(dir, { trust, sign, now });
    expect(second).toMatchObject({ written: true, statementVersion: v1.version + 1, hashed: 0 });
    await unlink(join(dir, SCAN_CACHE_FILE));
    const third = await scanPackages(dir, { trust, sign, now });
    expect(third.statementVersion).toBe(v1.version + 2); // read from the existing Packages
    // The index still reads for WAPT: same entries as an unsigned scan.
    expect((await readPackagesZip(third.path)).entries).toHaveLength(4);
  });
});
