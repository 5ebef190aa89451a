// The cold-scan fast paths of scanpackages (W-F2): small packages read in one
// call and parsed in memory must give the very entries the streaming reader
// gives, and the worker threads (compiled dist/ only) the very index the main
// thread gives.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustStore } from '../../src/crypto/index.js';
import { field } from '../../src/package/control.js';
import { PackageZip, readZipMemberOnce } from '../../src/package/zip-reader.js';
import { writeZip } from '../../src/package/zip-writer.js';
import { readPackagesZip } from '../../src/repo/index-file/packages-zip.js';
import { CertificateMemo, readPackageStreaming, readSmallPackageSync } from '../../src/repo/scan/read-package.js';
import { scanPackages } from '../../src/repo/scan/scan.js';

const ROOT = process.cwd();
const CONF = join(ROOT, 'fixtures/conformance');
/** The compiled tree the worker test runs (the lead builds dist/ before the test run). */
const DIST = process.env.WAPT_GET_DIST ?? join(ROOT, 'dist');

let tmp: string;
let trust: TrustStore;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-scan-fast-'));
  trust = await TrustStore.load(join(CONF, 'wapt-made/trusted'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const wapts = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.wapt')).sort();

describe.each(['wapt-made', 'wapt-made-py2'])('W-F2 fast path = streaming path over the conformance repository %s', (set) => {
  const src = join(CONF, set, 'repo');

  test('every package gives the same entry (block bytes, digests, certificates, setup kind) by both paths', async () => {
    const files = await wapts(src);
    expect(files.length).toBeGreaterThan(2);
    for (const f of files) {
      const path = join(src, f);
      const st = await stat(path);
      const small = readSmallPackageSync(path, f, null, new CertificateMemo());
      if (!('entry' in small)) throw new Error(`${f} was not read by the fast path`);
      const streamed = await readPackageStreaming(path, f, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }, new CertificateMemo());
      expect(small.entry.block.toString('utf8')).toBe(streamed.entry.block.toString('utf8'));
      const { block: _a, ...fast } = small.entry;
      const { block: _b, ...slow } = streamed.entry;
      expect(fast).toEqual(slow);
      expect(fast.certs.length).toBeGreaterThan(0);
      expect(Object.fromEntries(small.fields)).toEqual(Object.fromEntries(streamed.fields));
    }
  });

  test('a whole scan writes exactly the blocks the streaming reader makes, in index order', async () => {
    const dir = join(tmp, `same-${set}`);
    execFileSync('mkdir', [dir]);
    for (const f of await wapts(src)) await copyFile(join(src, f), join(dir, f));
    const res = await scanPackages(dir, { trust });
    expect(res.skipped).toEqual([]);
    const idx = await readPackagesZip(res.path);
    const blocks: string[] = [];
    for (const e of idx.entries) {
      const f = field(e, 'filename');
      const st = await stat(join(dir, f));
      const read = await readPackageStreaming(join(dir, f), f, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }, new CertificateMemo());
      blocks.push(read.entry.block.toString('utf8'));
    }
    expect(idx.packagesBytes.toString('utf8')).toBe(blocks.join('\n\n') + '\n');
  });
});

test('fast path: a file whose size/mtime/inode differ from the listing is refused (IO_ERROR), not indexed with wrong digests', async () => {
  const path = join(CONF, 'wapt-made/repo/tis-hello_1.2.3-4_PROD.wapt');
  const st = await stat(path);
  const stale = { size: st.size, mtimeMs: st.mtimeMs - 1000, ino: st.ino };
  expect(() => readSmallPackageSync(path, 'tis-hello_1.2.3-4_PROD.wapt', stale, new CertificateMemo())).toThrow(
    expect.objectContaining({ code: 'IO_ERROR', message: expect.stringContaining('changed while it was being scanned') }),
  );
});

test('fast path: a package over the small-size limit goes to the streaming path and is indexed the same way', async () => {
  const dir = join(tmp, 'large');
  execFileSync('mkdir', [dir]);
  const src = join(CONF, 'wapt-made/repo/tis-hello_1.2.3-4_PROD.wapt');
  const zip = await PackageZip.open(src);
  const inputs: { name: string; source: { buffer: Buffer } }[] = [];
  try {
    for (const m of zip.members) if (!m.isDirectory) inputs.push({ name: m.name, source: { buffer: await zip.readMember(m.name, 1 << 24) } });
  } finally {
    zip.close();
  }
  // 5 MiB of incompressible bytes, outside the manifest: the scanner does not check the manifest.
  inputs.push({ name: 'data/noise.bin', source: { buffer: randomBytes(5 << 20) } });
  await writeZip(join(dir, 'big_1_PROD.wapt'), inputs, { mtime: new Date(0) });
  const big = readSmallPackageSync(join(dir, 'big_1_PROD.wapt'), 'big_1_PROD.wapt', null, new CertificateMemo());
  expect(big).toEqual({ large: expect.objectContaining({ size: (await stat(join(dir, 'big_1_PROD.wapt'))).size }) });
  const res = await scanPackages(dir, { trust });
  expect(res).toMatchObject({ indexed: 1, skipped: [] });
  const e = (await readPackagesZip(res.path)).entries[0]!;
  expect(Number(field(e, 'size'))).toBeGreaterThan(5 << 20);
  const control = (await readZipMemberOnce(join(dir, 'big_1_PROD.wapt'), 'WAPT/control', 1 << 20)).toString('utf8');
  expect(control.startsWith(`package           : ${field(e, 'package')}`)).toBe(true);
});

describe('W-F2 worker threads (compiled dist/)', () => {
  test('workers: 2 gives the same Packages text and skips as workers: 0, and the workers really read', async () => {
    const workerJs = join(DIST, 'repo/scan/worker.js');
    if (!existsSync(workerJs)) throw new Error(`${workerJs} is missing: build first (npm run build)`);
    // 150 packages: copies of the conformance ones under new names, one tampered, one cut short.
    const dir = join(tmp, 'pool');
    execFileSync('mkdir', [dir]);
    const src = join(CONF, 'wapt-made/repo');
    const files = await wapts(src);
    for (let i = 0; i < 150; i++) await copyFile(join(src, files[i % files.length]!), join(dir, `n${String(i).padStart(3, '0')}-${files[i % files.length]}`));
    const whole = await readFile(join(src, files[0]!));
    await writeFile(join(dir, 'cut_1_PROD.wapt'), whole.subarray(0, 200));
    const text = (await readZipMemberOnce(join(src, 'tis-hello_1.2.3-4_PROD.wapt'), 'WAPT/control', 1 << 20)).toString('utf8');
    const zip = await PackageZip.open(join(src, 'tis-hello_1.2.3-4_PROD.wapt'));
    const inputs: { name: string; source: { buffer: Buffer } }[] = [];
    try {
      for (const m of zip.members) {
        if (m.isDirectory) continue;
        const bytes =
          m.name === 'WAPT/control' ? Buffer.from(text.replace('Hello package with setup code', 'Hello, edited')) : await zip.readMember(m.name, 1 << 24);
        inputs.push({ name: m.name, source: { buffer: bytes } });
      }
    } finally {
      zip.close();
    }
    await writeZip(join(dir, 'tampered_1_PROD.wapt'), inputs, { mtime: new Date(0) });

    const script = join(tmp, 'pool-check.mjs');
    await writeFile(
      script,
      `
import { rmSync, readdirSync } from 'node:fs';
const D = ${JSON.stringify(DIST)};
const { scanPackages } = await import(D + '/repo/scan/index.js');
const { readPackages, workerScript } = await import(D + '/repo/scan/pool.js');
const { CertificateMemo } = await import(D + '/repo/scan/read-package.js');
const { TrustStore } = await import(D + '/crypto/index.js');
const { readPackagesZip } = await import(D + '/repo/index-file/packages-zip.js');
const dir = ${JSON.stringify(dir)};
const trust = await TrustStore.load(${JSON.stringify(join(CONF, 'wapt-made/trusted'))});
const scan = async (workers) => {
  rmSync(dir + '/.wapt-get-scan-cache', { force: true });
  const r = await scanPackages(dir, { trust, workers });
  return { text: (await readPackagesZip(r.path)).packagesBytes.toString('utf8'), skipped: r.skipped.map((s) => [s.file, s.code]), indexed: r.indexed };
};
const items = readdirSync(dir).filter((n) => n.endsWith('.wapt')).sort().map((name) => ({ name, stamp: null }));
const read = async (workers) => {
  const out = await readPackages(dir, items, { workers, checkSignatures: true, memo: new CertificateMemo(), onWarning: () => {} });
  const reads = out.reads.map((r) => ('error' in r ? [r.name, r.error.code] : [r.name, r.entry.block.toString(), r.entry.md5, r.entry.sha256, r.signedBy, r.signatureError && r.signatureError.code]));
  return { reads, workerPems: out.pems.size };
};
const here = await read(0), pooled = await read(2);
console.log(JSON.stringify({ script: String(workerScript()), inThread: await scan(0), pooled: await scan(2), readsEqual: JSON.stringify(here.reads) === JSON.stringify(pooled.reads), reads: pooled.reads.length, workerPems: pooled.workerPems, herePems: here.workerPems }));
`,
    );
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const out = JSON.parse(execFileSync(process.execPath, [script], { env, encoding: 'utf8', timeout: 60_000 }));
    expect(out.script).toMatch(/worker\.js$/);
    expect(out.workerPems).toBeGreaterThan(0); // certificates came back from worker threads
    expect(out.herePems).toBe(0);
    expect(out.reads).toBe(152);
    expect(out.readsEqual).toBe(true);
    expect(out.inThread.indexed).toBe(150);
    expect(out.pooled).toEqual(out.inThread);
    expect(out.inThread.skipped).toEqual([
      ['cut_1_PROD.wapt', 'ZIP_INVALID'],
      ['tampered_1_PROD.wapt', 'CONTROL_SIGNATURE_INVALID'],
    ]);
  }, 90_000);
});
