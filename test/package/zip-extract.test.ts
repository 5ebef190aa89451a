// Extraction is all-or-nothing into a fresh directory, never outside it, never through a symlink.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { extractPackage, resolveInside } from '../../src/package/zip-extract.js';
import { PackageZip } from '../../src/package/zip-reader.js';
import { writeEvilZip, type EvilEntry } from '../helpers/evil-zip.js';

let tmp: string;
let dest: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'zip-extract-'));
  dest = path.join(tmp, 'out');
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function withZip<T>(entries: EvilEntry[], fn: (zip: PackageZip) => Promise<T>): Promise<T> {
  const p = path.join(tmp, 'pkg.wapt');
  await writeEvilZip(p, entries);
  const zip = await PackageZip.open(p);
  try {
    return await fn(zip);
  } finally {
    zip.close();
  }
}

const GOOD: EvilEntry[] = [
  { name: 'WAPT/control', data: Buffer.from('package : x') },
  { name: 'données/été.txt', data: Buffer.from('bonjour'), method: 'deflate' },
  { name: 'empty/', data: Buffer.alloc(0) },
  { name: 'bin/big.bin', data: Buffer.alloc(2_000_000, 9) },
];

describe('extractPackage', () => {
  it('extracts files, directories and UTF-8 names; reports counts and entries; honours exclude', async () => {
    const seen: string[] = [];
    const res = await withZip(GOOD, (zip) => extractPackage(zip, dest, { exclude: (n) => n === 'WAPT/control', onEntry: (n) => seen.push(n) }));
    expect(res).toEqual({ files: 2, bytes: 7 + 2_000_000 });
    expect(seen).toEqual(['données/été.txt', 'empty/', 'bin/big.bin']);
    expect(await readFile(path.join(dest, 'données/été.txt'), 'utf8')).toBe('bonjour');
    expect((await readFile(path.join(dest, 'bin/big.bin'))).equals(Buffer.alloc(2_000_000, 9))).toBe(true);
    expect(await readdir(path.join(dest, 'empty'))).toEqual([]);
    expect((await readdir(dest)).sort()).toEqual(['bin', 'données', 'empty']);
  });

  it('refuses a destination that is not empty, touching nothing', async () => {
    await mkdir(dest);
    await writeFile(path.join(dest, 'keep'), 'x');
    await expect(withZip(GOOD, (zip) => extractPackage(zip, dest, {}))).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(await readdir(dest)).toEqual(['keep']);
  });

  it('maxTotalBytes exceeded → ERR_OUT_OF_SPACE and the directory is left empty', async () => {
    await expect(withZip(GOOD, (zip) => extractPackage(zip, dest, { maxTotalBytes: 1_000_000 }))).rejects.toMatchObject({
      code: 'ERR_OUT_OF_SPACE',
    });
    expect(await readdir(dest)).toEqual([]);
  });

  it('maxTotalBytes counts only the members not excluded', async () => {
    const res = await withZip(GOOD, (zip) => extractPackage(zip, dest, { maxTotalBytes: 100, exclude: (n) => n.endsWith('.bin') }));
    expect(res.files).toBe(2);
  });

  it('a member failing its CRC after others were written → ZIP_INVALID, and everything extracted is removed', async () => {
    const entries = [...GOOD, { name: 'zzz/bad.txt', data: Buffer.from('tampered'), crc: 1 }];
    await expect(withZip(entries, (zip) => extractPackage(zip, dest, {}))).rejects.toMatchObject({ code: 'ZIP_INVALID' });
    expect(await readdir(dest)).toEqual([]);
  });

  it('a member inflating past its declared size → ZIP_BOMB, directory left empty', async () => {
    const entries = [GOOD[0]!, { name: 'lie.bin', data: Buffer.alloc(5_000_000), declaredSize: 1000, method: 'deflate' as const }];
    await expect(withZip(entries, (zip) => extractPackage(zip, dest, {}))).rejects.toMatchObject({ code: 'ZIP_BOMB' });
    expect(await readdir(dest)).toEqual([]);
  });

  it('never writes through a symlink planted at a target path (wx): fails, outside file intact, directory emptied', async () => {
    const outside = path.join(tmp, 'outside.txt');
    await writeFile(outside, 'precious');
    const fs = await import('node:fs'); // onEntry is synchronous: plant with sync calls, just before the file is created
    await expect(
      withZip(GOOD, (zip) =>
        extractPackage(zip, dest, {
          onEntry: (n) => {
            if (n === 'bin/big.bin') {
              fs.mkdirSync(path.join(dest, 'bin'), { recursive: true });
              fs.symlinkSync(outside, path.join(dest, 'bin/big.bin'));
            }
          },
        }),
      ),
    ).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(await readFile(outside, 'utf8')).toBe('precious');
    expect(await readdir(dest)).toEqual([]);
  });
});

describe('resolveInside (belt and braces after checkMemberName)', () => {
  const root = path.resolve('/srv/extract/root');
  it.each([['../x'], ['a/../../x'], ['/etc/passwd'], ['..'], ['.'], ['']])('refuses %j (outside-root or the root itself)', (name) => {
    expect(() => resolveInside(root, name)).toThrow(expect.objectContaining({ code: 'ZIP_UNSAFE_PATH' }));
  });
  it('accepts paths below the root, including a sibling whose name starts like the root', () => {
    expect(resolveInside(root, 'a/b.txt')).toBe(path.join(root, 'a/b.txt'));
    expect(() => resolveInside(root, '../root2/x')).toThrow(expect.objectContaining({ code: 'ZIP_UNSAFE_PATH' }));
  });
});
