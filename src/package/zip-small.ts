// A zip held whole in memory (a small .wapt read with one read call), parsed
// without yauzl's many small positional reads: scanpackages reads two members of
// thousands of small packages, and those reads dominated its cold scan.
//
// Why this path is as safe as PackageZip (zip-reader.ts): every entry of the
// central directory passes the same checks before any member is inflated: W-A1
// names (checkMemberName, yauzl's name decoding), no symlinks, no encryption,
// stored/deflate only, no data on directory entries, the ratio limit, the member
// count, exact and case-/normalisation-folded duplicates, file-vs-directory
// clashes, the total declared size and overlapping or out-of-bounds data. A
// member read is bounded by its declared size (ZIP_BOMB beyond it), must reach
// it exactly and must match its CRC-32 (ZIP_INVALID). Zip64 archives are not
// parsed here: `openSmallZip` returns null and the caller uses PackageZip.
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { WaptError } from '../errors.js';
import { zipInvalid } from './zip-member-stream.js';
import { checkMemberName, foldMemberName } from './zip-names.js';
import type { ZipLimits, ZipMember } from './zip-reader.js';

const crc32 = (zlib as unknown as { crc32: (data: Buffer, value?: number) => number }).crc32;

const MiB = 1024 * 1024;
// The same defaults as PackageZip.open.
const DEFAULTS = { maxMembers: 100_000, maxTotalUncompressed: 8 * 1024 * MiB, maxRatio: 200 };
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const EOCD_SIZE = 22;
const CD_HEADER = 46;
const LOCAL_HEADER_MIN = 30;
const U32_MARK = 0xffffffff;

interface Entry {
  member: ZipMember;
  method: number;
  localOffset: number;
}

function bomb(file: string, why: string, detail: Record<string, unknown> = {}): WaptError {
  return new WaptError('ZIP_BOMB', `${file}: ${why}`, { detail: { file, ...detail } });
}

export class SmallZip {
  readonly members: ZipMember[];

  private constructor(
    private readonly data: Buffer,
    readonly path: string,
    private readonly byName: Map<string, Entry>,
  ) {
    this.members = [...byName.values()].map((e) => e.member);
  }

  /** @internal built by openSmallZip once every entry passed its checks. */
  static of(data: Buffer, path: string, byName: Map<string, Entry>): SmallZip {
    return new SmallZip(data, path, byName);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The member's bytes, checked against its declared size and CRC-32, as PackageZip.readMember does. May be shared: do not modify. */
  readMember(name: string, maxBytes: number): Buffer {
    const e = this.byName.get(name);
    if (!e) throw zipInvalid(this.path, `it has no member ${name}`, { member: name, missing: true });
    const { member } = e;
    const size = member.uncompressedSize;
    if (size > maxBytes) {
      throw bomb(this.path, `member ${name} is ${size} bytes, more than the ${maxBytes} allowed here`, { member: name, size, maxBytes });
    }
    if (member.isDirectory) return Buffer.alloc(0);
    const d = this.data;
    const at = e.localOffset;
    if (at + LOCAL_HEADER_MIN > d.length) throw zipInvalid(this.path, `member ${name}: local header past the end of the file`, { member: name });
    if (d.readUInt32LE(at) !== 0x04034b50) throw zipInvalid(this.path, `member ${name}: invalid local file header signature`, { member: name });
    const start = at + LOCAL_HEADER_MIN + d.readUInt16LE(at + 26) + d.readUInt16LE(at + 28);
    const end = start + member.compressedSize;
    if (end > d.length) throw zipInvalid(this.path, `member ${name}: file data overflows file bounds`, { member: name });
    const out = e.method === 8 ? inflateMember(d.subarray(start, end), size, this.path, name) : d.subarray(start, end);
    if (out.length > size) {
      throw new WaptError('ZIP_BOMB', `${this.path}: member ${name} expands beyond its declared size of ${size} bytes`, {
        detail: { file: this.path, member: name, declared: size },
      });
    }
    if (out.length < size) throw zipInvalid(this.path, `member ${name} ends after ${out.length} of ${size} bytes`, { member: name });
    if (crc32(out) >>> 0 !== member.crc32) throw zipInvalid(this.path, `member ${name} fails its CRC-32 check`, { member: name });
    return out;
  }
}

/**
 * Inflated members by their exact compressed bytes. Inflate is deterministic, so
 * identical input gives identical output: thousands of packages carry the same
 * signer certificate, and its inflate (a zlib context each) is then done once.
 * The caller still checks the size and CRC-32 of what it gets.
 */
const inflated = new Map<string, { raw: Buffer; out: Buffer }>();
const INFLATED_MAX_ENTRIES = 32;
const INFLATED_MAX_BYTES = 64 * 1024;

function inflateMember(raw: Buffer, size: number, file: string, name: string): Buffer {
  const memoable = raw.length >= 4 && raw.length <= INFLATED_MAX_BYTES && size <= INFLATED_MAX_BYTES;
  const key = memoable ? `${raw.length}:${size}:${raw.readUInt32LE(0)}:${raw.readUInt32LE(raw.length - 4)}` : '';
  if (memoable) {
    const hit = inflated.get(key);
    if (hit && hit.raw.equals(raw)) return hit.out;
  }
  let out: Buffer;
  try {
    // One byte past the declared size is enough to tell "too large" apart.
    out = zlib.inflateRawSync(raw, { maxOutputLength: size + 1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return Buffer.alloc(size + 1);
    throw zipInvalid(file, `member ${name}: ${(err as Error).message}`, { member: name }, err);
  }
  if (memoable && out.length === size) {
    if (inflated.size >= INFLATED_MAX_ENTRIES) inflated.clear();
    inflated.set(key, { raw: Buffer.from(raw), out });
  }
  return out;
}

/** Finds the end-of-central-directory record as yauzl does (last signature whose comment length fits). */
function findEocd(d: Buffer, file: string): number {
  const lowest = Math.max(0, d.length - EOCD_SIZE - 0xffff);
  for (let i = d.length - EOCD_SIZE; i >= lowest; i--) {
    if (d.readUInt32LE(i) !== 0x06054b50) continue;
    if (d.readUInt16LE(i + 20) !== d.length - i - EOCD_SIZE) {
      throw zipInvalid(file, 'invalid comment length: extra bytes at the end of the file?');
    }
    return i;
  }
  throw zipInvalid(file, 'End of central directory record signature not found. Either not a zip file, or file is truncated.');
}

/**
 * Parses and checks the central directory of a whole zip in memory.
 * Returns null for zip64 archives (left to PackageZip); throws a WaptError
 * (ZIP_INVALID, ZIP_UNSAFE_PATH, ZIP_SYMLINK, ZIP_DUPLICATE_ENTRY, ZIP_BOMB) otherwise.
 */
export function openSmallZip(data: Buffer, file: string, limits: ZipLimits = {}): SmallZip | null {
  const lim = { ...DEFAULTS, ...limits };
  const eocd = findEocd(data, file);
  if (eocd >= 20 && data.readUInt32LE(eocd - 20) === 0x07064b50) return null; // zip64 locator
  if (data.readUInt16LE(eocd + 4) !== 0) throw zipInvalid(file, 'multi-disk zip files are not supported');
  const count = data.readUInt16LE(eocd + 10);
  if (count > lim.maxMembers) throw bomb(file, `${count} members, more than the ${lim.maxMembers} allowed`, { members: count });
  const entries: Entry[] = [];
  let at = data.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (at + CD_HEADER > data.length) throw zipInvalid(file, 'central directory runs past the end of the file');
    if (data.readUInt32LE(at) !== 0x02014b50) throw zipInvalid(file, 'invalid central directory file header signature');
    const flags = data.readUInt16LE(at + 8);
    const method = data.readUInt16LE(at + 10);
    const crc = data.readUInt32LE(at + 16);
    const compressedSize = data.readUInt32LE(at + 20);
    const uncompressedSize = data.readUInt32LE(at + 24);
    const nameLen = data.readUInt16LE(at + 28);
    const extraLen = data.readUInt16LE(at + 30);
    const commentLen = data.readUInt16LE(at + 32);
    const external = data.readUInt32LE(at + 38);
    const localOffset = data.readUInt32LE(at + 42);
    const next = at + CD_HEADER + nameLen + extraLen + commentLen;
    if (next > data.length) throw zipInvalid(file, 'central directory runs past the end of the file');
    if (flags & 0x40) throw zipInvalid(file, 'strong encryption is not supported');
    if (compressedSize === U32_MARK || uncompressedSize === U32_MARK || localOffset === U32_MARK) return null; // zip64 entry
    const rawName = data.subarray(at + CD_HEADER, at + CD_HEADER + nameLen);
    let extra: yauzl.ExtraField[] = [];
    if (extraLen > 0) {
      try {
        extra = yauzl.parseExtraFields(data.subarray(at + CD_HEADER + nameLen, at + CD_HEADER + nameLen + extraLen));
      } catch (err) {
        throw zipInvalid(file, (err as Error).message, {}, err);
      }
    }
    const name = yauzl.getFileNameLowLevel(flags, rawName, extra, true);
    const encrypted = (flags & 0x1) !== 0;
    // yauzl's validateEntrySizes rule for stored members.
    if (method === 0 && compressedSize !== uncompressedSize + (encrypted ? 12 : 0)) {
      throw zipInvalid(file, `compressed/uncompressed size mismatch for stored file: ${compressedSize} != ${uncompressedSize}`);
    }
    const member = checkEntry(file, name, { method, encrypted, external, compressedSize, uncompressedSize, maxRatio: lim.maxRatio });
    member.crc32 = crc >>> 0;
    member.mtime = yauzl.dosDateTimeToDate(data.readUInt16LE(at + 14), data.readUInt16LE(at + 12));
    entries.push({ member, method, localOffset });
    at = next;
  }
  // Exact duplicates are found here too (a name folds like itself), after every entry passed checkEntry, as in PackageZip.
  checkWhole(file, data.length, entries, lim.maxTotalUncompressed);
  return SmallZip.of(data, file, new Map(entries.map((e) => [e.member.name, e])));
}

interface RawEntry {
  method: number;
  encrypted: boolean;
  external: number;
  compressedSize: number;
  uncompressedSize: number;
  maxRatio: number;
}

/** The per-entry rules of zip-reader.ts checkEntry, same codes and messages. */
function checkEntry(file: string, name: string, r: RawEntry): ZipMember {
  checkMemberName(name);
  const isDirectory = name.endsWith('/');
  const detail = { member: name };
  if (((r.external >>> 16) & S_IFMT) === S_IFLNK) {
    throw new WaptError('ZIP_SYMLINK', `${file}: member ${name} is a symbolic link`, { detail: { file, ...detail } });
  }
  if (r.encrypted) throw zipInvalid(file, `member ${name} is encrypted`, detail);
  if (r.method !== 0 && r.method !== 8) throw zipInvalid(file, `member ${name} uses unsupported compression method ${r.method}`, detail);
  if (isDirectory && (r.uncompressedSize > 0 || r.compressedSize > 0)) throw zipInvalid(file, `directory entry ${name} carries data`, detail);
  const u = r.uncompressedSize;
  if (u > MiB && u > r.maxRatio * r.compressedSize) {
    throw bomb(file, `member ${name} declares ${u} bytes from ${r.compressedSize}, a ratio above ${r.maxRatio}`, {
      ...detail,
      uncompressedSize: u,
      compressedSize: r.compressedSize,
    });
  }
  return { name, compressedSize: r.compressedSize, uncompressedSize: u, isDirectory, crc32: 0, mtime: new Date(0) };
}

function duplicate(file: string, name: string, prev: string): WaptError {
  const how = prev === name ? 'twice' : `twice (as ${prev} and ${name}, the same file on Windows)`;
  return new WaptError('ZIP_DUPLICATE_ENTRY', `${file}: member ${name} is present ${how}`, { detail: { file, member: name, other: prev } });
}

/** The cross-entry rules of zip-reader.ts checkWhole: duplicates (folded), file-vs-directory, total size, overlap. */
/**
 * foldMemberName, skipping its NFC pass and per-segment regex for the common
 * printable-ASCII name with no segment ending in a dot or space (NFC leaves
 * ASCII alone, and there is nothing to strip): then the fold is just lowercase.
 */
function fold(name: string): string {
  const body = name.endsWith('/') ? name.slice(0, -1) : name;
  return /^[\x20-\x7e]*$/.test(body) && !/[. ](?:\/|$)/.test(body) ? body.toLowerCase() : foldMemberName(name);
}

function checkWhole(file: string, fileSize: number, entries: Entry[], maxTotal: number): void {
  const seen = new Map<string, string>();
  const dirs = new Set<string>();
  const keys: string[] = [];
  let total = 0;
  for (const { member } of entries) {
    const key = fold(member.name);
    const prev = seen.get(key);
    if (prev !== undefined) throw duplicate(file, member.name, prev);
    seen.set(key, member.name);
    keys.push(key);
    if (member.isDirectory) dirs.add(key);
    for (let i = key.indexOf('/'); i >= 0; i = key.indexOf('/', i + 1)) dirs.add(key.slice(0, i));
    total += member.uncompressedSize;
  }
  entries.forEach(({ member }, i) => {
    if (!member.isDirectory && dirs.has(keys[i]!)) {
      throw new WaptError('ZIP_DUPLICATE_ENTRY', `${file}: ${member.name} is both a file and a directory`, { detail: { file, member: member.name } });
    }
  });
  if (total > maxTotal) throw bomb(file, `members declare ${total} bytes in all, more than the ${maxTotal} allowed`, { total });
  const spans = entries
    .map(({ member, localOffset }) => ({ name: member.name, start: localOffset, min: LOCAL_HEADER_MIN + member.compressedSize }))
    .sort((x, y) => x.start - y.start);
  spans.forEach((s, i) => {
    const next = spans[i + 1];
    if (next && s.start + s.min > next.start) throw bomb(file, `member ${s.name} overlaps member ${next.name}`, { member: s.name });
    if (!next && s.start + s.min > fileSize) throw zipInvalid(file, `member ${s.name} runs past the end of the file`, { member: s.name });
  });
}
