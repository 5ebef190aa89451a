// The scanner's in-memory zip path (package/zip-small.ts, W-A1): for every hostile
// shape it must refuse exactly as PackageZip (zip-reader.ts) does, and a scan
// must skip such packages with a warning while indexing the rest (W-F2).
import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { TrustStore } from '../../src/crypto/index.js';
import { isWaptError } from '../../src/errors.js';
import { PackageZip } from '../../src/package/zip-reader.js';
import { openSmallZip } from '../../src/package/zip-small.js';
import { readPackagesZip } from '../../src/repo/index-file/packages-zip.js';
import { scanPackages } from '../../src/repo/scan/scan.js';

const CONF = join(process.cwd(), 'fixtures/conformance');
const crc32 = (zlib as unknown as { crc32: (d: Buffer) => number }).crc32;

interface RawMember {
  name: string;
  data: Buffer;
  deflate?: boolean;
  /** Overrides of what the headers declare. */
  crc?: number;
  size?: number;
  method?: number;
  flags?: number;
  unixMode?: number;
  /** Point this central entry at the local header of member #n (overlap). */
  sameDataAs?: number;
}

/** A zip written byte by byte, so that it can say things our writer never would. */
function rawZip(members: RawMember[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  members.forEach((m, i) => {
    const name = Buffer.from(m.name, 'utf8');
    const body = m.deflate ? zlib.deflateRawSync(m.data) : m.data;
    const method = m.method ?? (m.deflate ? 8 : 0);
    const crc = m.crc ?? crc32(m.data);
    const size = m.size ?? m.data.length;
    const flags = (m.flags ?? 0) | 0x800;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(flags, 6);
    lh.writeUInt16LE(method, 8);
    lh.writeUInt32LE(crc >>> 0, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(size, 22);
    lh.writeUInt16LE(name.length, 26);
    const offset = m.sameDataAs === undefined ? at : offsets[m.sameDataAs]!;
    offsets.push(offset);
    if (m.sameDataAs === undefined) {
      locals.push(lh, name, body);
      at += 30 + name.length + body.length;
    }
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE((3 << 8) | 20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(flags, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt32LE(crc >>> 0, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(size, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(((m.unixMode ?? 0o100644) << 16) >>> 0, 38);
    cd.writeUInt32LE(offset, 42);
    central.push(cd, name);
    void i;
  });
  const cdSize = central.reduce((n, b) => n + b.length, 0);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(members.length, 8);
  eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cdSize, 12);
  eocd.writeUInt32LE(at, 16);
  return Buffer.concat([...locals, ...central, eocd]);
}

const CONTROL = Buffer.from('package           : tis-raw\nversion           : 1-1\n'.repeat(4));
const control = (extra: Partial<RawMember> = {}): RawMember => ({ name: 'WAPT/control', data: CONTROL, deflate: true, ...extra });

let tmp: string;
let trust: TrustStore;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-scan-fast-zip-'));
  trust = await TrustStore.load(join(CONF, 'wapt-made/trusted'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let n = 0;
async function codeOf(fn: () => Promise<unknown> | unknown): Promise<string> {
  try {
    await fn();
    return 'OK';
  } catch (err) {
    return isWaptError(err) ? err.code : `untyped: ${(err as Error).message}`;
  }
}

/** The error code (or OK) of opening `bytes` and reading WAPT/control, by both readers. */
async function bothReaders(bytes: Buffer): Promise<{ stream: string; small: string }> {
  const path = join(tmp, `case-${++n}.wapt`);
  await writeFile(path, bytes);
  const stream = await codeOf(async () => {
    const zip = await PackageZip.open(path);
    try {
      await zip.readMember('WAPT/control', 1 << 20);
    } finally {
      zip.close();
    }
  });
  const small = await codeOf(() => openSmallZip(bytes, path)!.readMember('WAPT/control', 1 << 20));
  return { stream, small };
}

const valid = rawZip([control(), { name: 'setup.py', data: Buffer.from('pass\n') }]);

describe.each([
  ['a well-formed zip', valid, 'OK'],
  ['W-A1: a `..` member name', rawZip([control(), { name: '../evil', data: Buffer.from('x') }]), 'ZIP_UNSAFE_PATH'],
  ['W-A1: the control member named with a backslash', rawZip([control({ name: 'WAPT\\control' })]), 'ZIP_UNSAFE_PATH'],
  ['W-A1: an absolute member name', rawZip([control(), { name: '/etc/passwd', data: Buffer.from('x') }]), 'ZIP_UNSAFE_PATH'],
  ['W-A1: a drive-letter member name', rawZip([control(), { name: 'C:evil', data: Buffer.from('x') }]), 'ZIP_UNSAFE_PATH'],
  ['a symbolic link member', rawZip([control(), { name: 'link', data: Buffer.from('/etc/passwd'), unixMode: 0o120777 }]), 'ZIP_SYMLINK'],
  ['the control twice', rawZip([control(), control()]), 'ZIP_DUPLICATE_ENTRY'],
  ['two names that are one file on Windows (case)', rawZip([control(), control({ name: 'WAPT/CONTROL' })]), 'ZIP_DUPLICATE_ENTRY'],
  [
    'a file that is also a directory',
    rawZip([control(), { name: 'a', data: Buffer.from('x') }, { name: 'a/b', data: Buffer.from('y') }]),
    'ZIP_DUPLICATE_ENTRY',
  ],
  ['an encrypted member', rawZip([control({ flags: 1 })]), 'ZIP_INVALID'],
  ['an unsupported compression method', rawZip([control({ method: 12 })]), 'ZIP_INVALID'],
  ['a directory entry carrying data', rawZip([control(), { name: 'dir/', data: Buffer.from('hidden') }]), 'ZIP_INVALID'],
  ['a stored member whose sizes disagree', rawZip([control({ deflate: false, size: CONTROL.length + 5 })]), 'ZIP_INVALID'],
  ['a control failing its CRC-32', rawZip([control({ crc: 12345 })]), 'ZIP_INVALID'],
  ['a control larger than it declares', rawZip([control({ size: 10 })]), 'ZIP_BOMB'],
  ['a control smaller than it declares', rawZip([control({ size: CONTROL.length + 10 })]), 'ZIP_INVALID'],
  ['a member declaring 2 MiB from a few bytes (ratio)', rawZip([control(), { name: 'big', data: Buffer.from('x'), deflate: true, size: 2 << 20 }]), 'ZIP_BOMB'],
  ['two entries sharing one data range (overlap)', rawZip([control(), { name: 'WAPT/other', data: CONTROL, deflate: true, sameDataAs: 0 }]), 'ZIP_BOMB'],
  ['a zip cut short', valid.subarray(0, valid.length - 30), 'ZIP_INVALID'],
  ['bytes after the end record', Buffer.concat([valid, Buffer.from('junk')]), 'ZIP_INVALID'],
  ['no zip at all', Buffer.from('not a zip, just text that is long enough to search'), 'ZIP_INVALID'],
])('zip-small refuses like PackageZip: %s', (_title, bytes, code) => {
  test(`both readers answer ${code}`, async () => {
    expect(await bothReaders(bytes)).toEqual({ stream: code, small: code });
  });
});

test('zip-small: a zip64 archive is left to PackageZip (null), and a scan still indexes it', async () => {
  const work = join(tmp, 'z64');
  execFileSync('mkdir', ['-p', join(work, 'x'), join(work, 'repo')]);
  execFileSync('unzip', ['-q', join(CONF, 'wapt-made/repo/tis-hello_1.2.3-4_PROD.wapt'), '-d', join(work, 'x')]);
  execFileSync('zip', ['-q', '-r', '-fz', join(work, 'repo/tis-hello_1.2.3-4_PROD.wapt'), '.'], { cwd: join(work, 'x') });
  const bytes = await readFile(join(work, 'repo/tis-hello_1.2.3-4_PROD.wapt'));
  expect(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x07]))).toBe(true); // zip64 locator present
  expect(openSmallZip(bytes, 'z64.wapt')).toBeNull();
  const res = await scanPackages(join(work, 'repo'), { trust });
  expect(res).toMatchObject({ indexed: 1, skipped: [] });
});

describe('W-F2 scan over small packages the fast path must refuse', () => {
  async function repoWith(files: Record<string, Buffer>): Promise<string> {
    const dir = join(tmp, `repo-${++n}`);
    execFileSync('mkdir', [dir]);
    const src = join(CONF, 'wapt-made/repo');
    for (const f of (await readdir(src)).filter((f) => f.endsWith('.wapt'))) await copyFile(join(src, f), join(dir, f));
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, name), bytes);
    return dir;
  }

  test('a truncated small zip: skipped with a warning (ZIP_INVALID), the others indexed', async () => {
    const whole = await readFile(join(CONF, 'wapt-made/repo/tis-hello_1.10.0-1_PROD.wapt'));
    const dir = await repoWith({ 'cut_1_PROD.wapt': whole.subarray(0, Math.floor(whole.length / 2)) });
    const warnings: string[] = [];
    const res = await scanPackages(dir, { trust, onWarning: (m) => warnings.push(m) });
    expect(res.indexed).toBe(4);
    expect(res.skipped.map((s) => [s.file, s.code])).toEqual([['cut_1_PROD.wapt', 'ZIP_INVALID']]);
    expect(warnings.filter((w) => w.startsWith('skipped cut_1_PROD.wapt'))).toHaveLength(1);
  });

  test('W-A1: a package whose control member name is unsafe: skipped (ZIP_UNSAFE_PATH), not "control missing"', async () => {
    const dir = await repoWith({
      'backslash_1_PROD.wapt': rawZip([control({ name: 'WAPT\\control' })]),
      'dotdot_1_PROD.wapt': rawZip([control(), { name: 'WAPT/../../control', data: CONTROL }]),
    });
    const res = await scanPackages(dir, {});
    expect(res.indexed).toBe(4);
    expect(res.skipped.map((s) => [s.file, s.code])).toEqual([
      ['backslash_1_PROD.wapt', 'ZIP_UNSAFE_PATH'],
      ['dotdot_1_PROD.wapt', 'ZIP_UNSAFE_PATH'],
    ]);
    const idx = await readPackagesZip(res.path);
    expect(idx.entries).toHaveLength(4);
  });

  test('a control whose bytes fail their CRC-32 or exceed their declared size: skipped, strict stops the scan', async () => {
    const dir = await repoWith({
      'crc_1_PROD.wapt': rawZip([control({ crc: 1 })]),
      'bomb_1_PROD.wapt': rawZip([control({ size: 8 })]),
    });
    const res = await scanPackages(dir, {});
    expect(res.skipped.map((s) => [s.file, s.code])).toEqual([
      ['bomb_1_PROD.wapt', 'ZIP_BOMB'],
      ['crc_1_PROD.wapt', 'ZIP_INVALID'],
    ]);
    await rm(join(dir, '.wapt-get-scan-cache'));
    await expect(scanPackages(dir, { strict: true })).rejects.toMatchObject({ code: expect.stringMatching(/^ZIP_(BOMB|INVALID)$/) });
  });
});
