// The safety rules for a hostile .wapt zip (W-A1), shared by both readers:
// PackageZip (zip-reader.ts, over yauzl) and the in-memory SmallZip
// (zip-small.ts). Pure: each reader parses its central directory into the
// neutral ZipEntryFacts below and calls these checks, so a rule (its code and
// its message) cannot differ between the two readers. Parsing rules that mirror
// yauzl's own (strong encryption, stored-size mismatch) stay in zip-small.ts.

import { WaptError } from '../errors.js';
import { zipInvalid } from './zip-member-stream.js';
import { checkMemberName, foldMemberName } from './zip-names.js';

export interface ZipMember {
  name: string;
  compressedSize: number;
  uncompressedSize: number;
  isDirectory: boolean;
  crc32: number;
  mtime: Date;
}

export interface ZipLimits {
  /** Default 100 000. */
  maxMembers?: number;
  /** Sum of declared uncompressed sizes. Default 8 GiB. */
  maxTotalUncompressed?: number;
  /** uncompressed / compressed, checked only for members over 1 MiB uncompressed. Default 200. */
  maxRatio?: number;
}

/** What the central directory says about one entry, as either reader decodes it. */
export interface ZipEntryFacts {
  /** Decoded name (UTF-8 flag or Info-ZIP unicode path extra field honoured). */
  name: string;
  /** External file attributes; the high 16 bits are the Unix mode. */
  externalAttributes: number;
  generalPurposeBitFlag: number;
  compressionMethod: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const MiB = 1024 * 1024;
export const ZIP_DEFAULT_LIMITS: Required<ZipLimits> = { maxMembers: 100_000, maxTotalUncompressed: 8 * 1024 * MiB, maxRatio: 200 };
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
export const LOCAL_HEADER_MIN = 30;

/** `limits` over the defaults. */
export function resolveLimits(limits: ZipLimits = {}): Required<ZipLimits> {
  return { ...ZIP_DEFAULT_LIMITS, ...limits };
}

export function zipBomb(file: string, why: string, detail: Record<string, unknown> = {}): WaptError {
  return new WaptError('ZIP_BOMB', `${file}: ${why}`, { detail: { file, ...detail } });
}

/** Directory entries end with `/` (W-A1). */
export function isDirectoryName(name: string): boolean {
  return name.endsWith('/');
}

/** ZIP_BOMB when the end record declares more entries than allowed (checked before any entry is read). */
export function checkMemberCount(file: string, count: number, maxMembers: number): void {
  if (count > maxMembers) throw zipBomb(file, `${count} members, more than the ${maxMembers} allowed`, { members: count });
}

/**
 * The per-entry rules, in this order: W-A1 name, symlink, encryption,
 * compression method (stored/deflate only), directory entries carrying no
 * data, and the declared ratio for members over 1 MiB.
 */
export function checkEntry(file: string, e: ZipEntryFacts, maxRatio: number): void {
  const { name } = e;
  checkMemberName(name);
  const detail = { member: name };
  if (((e.externalAttributes >>> 16) & S_IFMT) === S_IFLNK) {
    throw new WaptError('ZIP_SYMLINK', `${file}: member ${name} is a symbolic link`, { detail: { file, ...detail } });
  }
  if ((e.generalPurposeBitFlag & 0x1) !== 0) throw zipInvalid(file, `member ${name} is encrypted`, detail);
  const method = e.compressionMethod;
  if (method !== 0 && method !== 8) throw zipInvalid(file, `member ${name} uses unsupported compression method ${method}`, detail);
  // A directory entry carrying data would hide bytes from the manifest (W-D1 skips directories).
  if (isDirectoryName(name) && (e.uncompressedSize > 0 || e.compressedSize > 0)) {
    throw zipInvalid(file, `directory entry ${name} carries data`, detail);
  }
  const u = e.uncompressedSize;
  if (u > MiB && u > maxRatio * e.compressedSize) {
    throw zipBomb(file, `member ${name} declares ${u} bytes from ${e.compressedSize}, a ratio above ${maxRatio}`, {
      ...detail,
      uncompressedSize: u,
      compressedSize: e.compressedSize,
    });
  }
}

/**
 * foldMemberName, skipping its NFC pass and per-segment regex for the common
 * printable-ASCII name with no segment ending in a dot or space (NFC leaves
 * ASCII alone, and there is nothing to strip): then the fold is just lowercase.
 */
export function foldName(name: string): string {
  const body = name.endsWith('/') ? name.slice(0, -1) : name;
  return /^[\x20-\x7e]*$/.test(body) && !/[. ](?:\/|$)/.test(body) ? body.toLowerCase() : foldMemberName(name);
}

/**
 * Checks across entries, each of which already passed checkEntry. Duplicates
 * are refused exactly and case-/normalisation-insensitively: WAPT's clients run
 * on Windows, where `A.txt` and `a.txt` are one file, so the verified member
 * and the installed file could differ. A file that is also a parent directory
 * of another member is refused for the same reason. Then the total declared
 * size, and overlapping data ranges (several entries sharing bytes: the
 * "overlapping zip bomb") or data running past the end of the file.
 */
export function checkArchive(file: string, fileSize: number, entries: readonly ZipEntryFacts[], maxTotalUncompressed: number): void {
  const seen = new Map<string, string>();
  const dirs = new Set<string>();
  const keys: string[] = [];
  let total = 0;
  for (const { name, uncompressedSize } of entries) {
    const key = foldName(name);
    const prev = seen.get(key);
    if (prev !== undefined) {
      const how = prev === name ? 'twice' : `twice (as ${prev} and ${name}, the same file on Windows)`;
      throw new WaptError('ZIP_DUPLICATE_ENTRY', `${file}: member ${name} is present ${how}`, { detail: { file, member: name, other: prev } });
    }
    seen.set(key, name);
    keys.push(key);
    if (isDirectoryName(name)) dirs.add(key);
    for (let i = key.indexOf('/'); i >= 0; i = key.indexOf('/', i + 1)) dirs.add(key.slice(0, i));
    total += uncompressedSize;
  }
  entries.forEach(({ name }, i) => {
    if (!isDirectoryName(name) && dirs.has(keys[i]!)) {
      throw new WaptError('ZIP_DUPLICATE_ENTRY', `${file}: ${name} is both a file and a directory`, { detail: { file, member: name } });
    }
  });
  if (total > maxTotalUncompressed) {
    throw zipBomb(file, `members declare ${total} bytes in all, more than the ${maxTotalUncompressed} allowed`, { total });
  }
  const spans = entries.map((e) => ({ name: e.name, start: e.localHeaderOffset, min: LOCAL_HEADER_MIN + e.compressedSize })).sort((x, y) => x.start - y.start);
  spans.forEach((s, i) => {
    const next = spans[i + 1];
    if (next && s.start + s.min > next.start) throw zipBomb(file, `member ${s.name} overlaps member ${next.name}`, { member: s.name });
    if (!next && s.start + s.min > fileSize) throw zipInvalid(file, `member ${s.name} runs past the end of the file`, { member: s.name });
  });
}
