// The shared zip safety rules (package/zip-rules.ts, W-A1), tested as pure
// functions over entry facts: both readers (zip-reader.ts, zip-small.ts) call
// exactly these, so their codes and messages are pinned here once.
import { isWaptError } from '../../src/errors.js';
import {
  checkArchive,
  checkEntry,
  checkMemberCount,
  foldName,
  isDirectoryName,
  resolveLimits,
  ZIP_DEFAULT_LIMITS,
  type ZipEntryFacts,
} from '../../src/package/zip-rules.js';
import { foldMemberName } from '../../src/package/zip-names.js';

const F = 'pkg.wapt';
const MiB = 1024 * 1024;

/** A valid stored file entry, 10 bytes at `offset`. */
function facts(name: string, over: Partial<ZipEntryFacts> = {}): ZipEntryFacts {
  const dir = name.endsWith('/');
  return {
    name,
    externalAttributes: ((dir ? 0o40755 : 0o100644) << 16) >>> 0,
    generalPurposeBitFlag: 0x800,
    compressionMethod: dir ? 0 : 8,
    compressedSize: dir ? 0 : 10,
    uncompressedSize: dir ? 0 : 10,
    localHeaderOffset: 0,
    ...over,
  };
}

/** Lays entries out back to back, as a writer would (30-byte header + name + data). */
function laidOut(list: ZipEntryFacts[]): { entries: ZipEntryFacts[]; size: number } {
  let at = 0;
  const entries = list.map((e) => {
    const placed = { ...e, localHeaderOffset: at };
    at += 30 + Buffer.byteLength(e.name) + e.compressedSize;
    return placed;
  });
  return { entries, size: at + 100 };
}

function failure(fn: () => void): { code: string; message: string; detail: unknown } | 'OK' {
  try {
    fn();
    return 'OK';
  } catch (err) {
    if (!isWaptError(err)) throw err;
    return { code: err.code, message: err.message, detail: err.detail };
  }
}

describe('checkEntry: per-entry rules', () => {
  test('a plain file, a directory and a 1 MiB member at a high ratio pass', () => {
    expect(failure(() => checkEntry(F, facts('WAPT/control'), 200))).toBe('OK');
    expect(failure(() => checkEntry(F, facts('WAPT/'), 200))).toBe('OK');
    expect(failure(() => checkEntry(F, facts('flat', { uncompressedSize: MiB, compressedSize: 1 }), 200))).toBe('OK');
  });

  test.each([
    ['W-A1: a `..` segment', '../evil'],
    ['W-A1: an absolute name', '/etc/passwd'],
    ['W-A1: a backslash', 'WAPT\\control'],
    ['W-A1: a drive letter', 'C:evil'],
  ])('ZIP_UNSAFE_PATH for %s', (_t, name) => {
    expect(failure(() => checkEntry(F, facts(name), 200))).toMatchObject({ code: 'ZIP_UNSAFE_PATH' });
  });

  test('a symbolic link (Unix mode 0120000 in the external attributes): ZIP_SYMLINK', () => {
    const r = failure(() => checkEntry(F, facts('link', { externalAttributes: (0o120777 << 16) >>> 0 }), 200));
    expect(r).toEqual({ code: 'ZIP_SYMLINK', message: 'pkg.wapt: member link is a symbolic link', detail: { file: F, member: 'link' } });
  });

  test('an encrypted member (flag bit 0): ZIP_INVALID', () => {
    const r = failure(() => checkEntry(F, facts('a', { generalPurposeBitFlag: 0x801 }), 200));
    expect(r).toMatchObject({ code: 'ZIP_INVALID', message: expect.stringContaining('member a is encrypted') });
  });

  test('an unsupported compression method (12, bzip2): ZIP_INVALID naming the method', () => {
    const r = failure(() => checkEntry(F, facts('a', { compressionMethod: 12 }), 200));
    expect(r).toMatchObject({ code: 'ZIP_INVALID', message: expect.stringContaining('member a uses unsupported compression method 12') });
  });

  test('a directory entry carrying data: ZIP_INVALID', () => {
    const r = failure(() => checkEntry(F, facts('dir/', { compressedSize: 6, uncompressedSize: 6 }), 200));
    expect(r).toMatchObject({ code: 'ZIP_INVALID', message: expect.stringContaining('directory entry dir/ carries data') });
  });

  test('a member over 1 MiB declaring a ratio above the limit: ZIP_BOMB with both sizes', () => {
    const r = failure(() => checkEntry(F, facts('big', { uncompressedSize: 2 * MiB, compressedSize: 5 }), 200));
    expect(r).toEqual({
      code: 'ZIP_BOMB',
      message: `pkg.wapt: member big declares ${2 * MiB} bytes from 5, a ratio above 200`,
      detail: { file: F, member: 'big', uncompressedSize: 2 * MiB, compressedSize: 5 },
    });
    expect(failure(() => checkEntry(F, facts('big', { uncompressedSize: 2 * MiB, compressedSize: 5 }), 1e6))).toBe('OK');
  });

  test('the name is checked first: an unsafe symlink is reported as ZIP_UNSAFE_PATH', () => {
    expect(failure(() => checkEntry(F, facts('../l', { externalAttributes: (0o120777 << 16) >>> 0 }), 200))).toMatchObject({
      code: 'ZIP_UNSAFE_PATH',
    });
  });
});

describe('checkMemberCount and limits', () => {
  test('more members than allowed: ZIP_BOMB; exactly the limit passes', () => {
    expect(failure(() => checkMemberCount(F, 11, 10))).toEqual({
      code: 'ZIP_BOMB',
      message: 'pkg.wapt: 11 members, more than the 10 allowed',
      detail: { file: F, members: 11 },
    });
    expect(failure(() => checkMemberCount(F, 10, 10))).toBe('OK');
  });

  test('resolveLimits fills the defaults and keeps overrides', () => {
    expect(resolveLimits()).toEqual({ maxMembers: 100_000, maxTotalUncompressed: 8 * 1024 * MiB, maxRatio: 200 });
    expect(resolveLimits({ maxRatio: 5 })).toEqual({ ...ZIP_DEFAULT_LIMITS, maxRatio: 5 });
  });
});

describe('checkArchive: rules across entries', () => {
  const check = (list: ZipEntryFacts[], maxTotal = 1e9) => {
    const { entries, size } = laidOut(list);
    return failure(() => checkArchive(F, size, entries, maxTotal));
  };

  test('a well-formed archive with directories and nested files passes', () => {
    expect(check([facts('WAPT/'), facts('WAPT/control'), facts('setup.py'), facts('a/b/c.txt')])).toBe('OK');
  });

  test('the same name twice: ZIP_DUPLICATE_ENTRY "twice"', () => {
    expect(check([facts('WAPT/control'), facts('WAPT/control')])).toEqual({
      code: 'ZIP_DUPLICATE_ENTRY',
      message: 'pkg.wapt: member WAPT/control is present twice',
      detail: { file: F, member: 'WAPT/control', other: 'WAPT/control' },
    });
  });

  test.each([
    ['case', 'WAPT/control', 'WAPT/CONTROL'],
    ['a trailing dot', 'setup.py', 'setup.py.'],
    ['Unicode normalisation (NFC vs NFD)', 'caf\u00e9', 'cafe\u0301'],
  ])('two names that are one file on Windows (%s): ZIP_DUPLICATE_ENTRY naming both', (_t, a, b) => {
    expect(check([facts(a), facts(b)])).toMatchObject({
      code: 'ZIP_DUPLICATE_ENTRY',
      message: `pkg.wapt: member ${b} is present twice (as ${a} and ${b}, the same file on Windows)`,
    });
  });

  test.each([
    ['a file that is a parent of another member', [facts('a'), facts('a/b')]],
    ['a file that is a parent, case-folded', [facts('A/b'), facts('a')]],
    ["a file named as a directory entry's parent", [facts('x/y/'), facts('x')]],
  ])('%s: ZIP_DUPLICATE_ENTRY "both a file and a directory"', (_t, list) => {
    expect(check(list)).toMatchObject({ code: 'ZIP_DUPLICATE_ENTRY', message: expect.stringMatching(/is both a file and a directory$/) });
  });

  test('a directory entry and a file of one name fold alike: reported as a duplicate', () => {
    expect(check([facts('x/'), facts('x')])).toMatchObject({
      code: 'ZIP_DUPLICATE_ENTRY',
      message: 'pkg.wapt: member x is present twice (as x/ and x, the same file on Windows)',
    });
  });

  test('declared sizes summing above the limit: ZIP_BOMB with the total', () => {
    expect(check([facts('a'), facts('b')], 19)).toEqual({
      code: 'ZIP_BOMB',
      message: 'pkg.wapt: members declare 20 bytes in all, more than the 19 allowed',
      detail: { file: F, total: 20 },
    });
    expect(check([facts('a'), facts('b')], 20)).toBe('OK');
  });

  test('two entries sharing a data range (overlapping zip bomb): ZIP_BOMB', () => {
    const entries = [facts('a', { localHeaderOffset: 0 }), facts('b', { localHeaderOffset: 0 })];
    expect(failure(() => checkArchive(F, 1000, entries, 1e9))).toMatchObject({
      code: 'ZIP_BOMB',
      message: expect.stringMatching(/^pkg\.wapt: member [ab] overlaps member [ab]$/),
    });
    // One byte short of the next header is an overlap too; exactly adjacent is not.
    const tight = [facts('a', { localHeaderOffset: 0 }), facts('b', { localHeaderOffset: 39 })];
    expect(failure(() => checkArchive(F, 1000, tight, 1e9))).toMatchObject({ code: 'ZIP_BOMB' });
    const adjacent = [facts('a', { localHeaderOffset: 0 }), facts('b', { localHeaderOffset: 40 })];
    expect(failure(() => checkArchive(F, 1000, adjacent, 1e9))).toBe('OK');
  });

  test('the last entry running past the end of the file: ZIP_INVALID', () => {
    const entries = [facts('a', { localHeaderOffset: 0 })];
    expect(failure(() => checkArchive(F, 39, entries, 1e9))).toMatchObject({
      code: 'ZIP_INVALID',
      message: expect.stringContaining('member a runs past the end of the file'),
    });
    expect(failure(() => checkArchive(F, 40, entries, 1e9))).toBe('OK');
  });

  test('duplicates are reported before the total size and overlap', () => {
    const entries = [facts('a', { localHeaderOffset: 0 }), facts('a', { localHeaderOffset: 0 })];
    expect(failure(() => checkArchive(F, 0, entries, 0))).toMatchObject({ code: 'ZIP_DUPLICATE_ENTRY' });
  });
});

describe('name helpers', () => {
  test('isDirectoryName: a trailing slash', () => {
    expect(isDirectoryName('WAPT/')).toBe(true);
    expect(isDirectoryName('WAPT/control')).toBe(false);
  });

  test.each(['WAPT/Control', 'Dir/', 'a b/C.TXT', 'x. /y', 'caf\u00e9/E\u0301', 'trailing. ', '\u212a'])(
    'foldName agrees with foldMemberName for %j',
    (name) => {
      expect(foldName(name)).toBe(foldMemberName(name));
    },
  );
});
