// A zip held whole in memory (a small .wapt read with one read call), parsed
// without yauzl's many small positional reads: scanpackages reads two members of
// thousands of small packages, and those reads dominated its cold scan.
//
// Why this path is as safe as PackageZip (zip-reader.ts): every entry of the
// central directory passes the same checks (zip-rules.ts, called by both
// readers) before any member is inflated: W-A1
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
import { checkArchive, checkEntry, checkMemberCount, isDirectoryName, LOCAL_HEADER_MIN, resolveLimits, zipBomb } from './zip-rules.js';
import type { ZipEntryFacts, ZipLimits, ZipMember } from './zip-rules.js';

const crc32 = (zlib as unknown as { crc32: (data: Buffer, value?: number) => number }).crc32;

const EOCD_SIZE = 22;
const CD_HEADER = 46;
const U32_MARK = 0xffffffff;

interface Entry {
  member: ZipMember;
  facts: ZipEntryFacts;
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
      throw zipBomb(this.path, `member ${name} is ${size} bytes, more than the ${maxBytes} allowed here`, { member: name, size, maxBytes });
    }
    if (member.isDirectory) return Buffer.alloc(0);
    const d = this.data;
    const at = e.facts.localHeaderOffset;
    if (at + LOCAL_HEADER_MIN > d.length) throw zipInvalid(this.path, `member ${name}: local header past the end of the file`, { member: name });
    if (d.readUInt32LE(at) !== 0x04034b50) throw zipInvalid(this.path, `member ${name}: invalid local file header signature`, { member: name });
    const start = at + LOCAL_HEADER_MIN + d.readUInt16LE(at + 26) + d.readUInt16LE(at + 28);
    const end = start + member.compressedSize;
    if (end > d.length) throw zipInvalid(this.path, `member ${name}: file data overflows file bounds`, { member: name });
    const out = e.facts.compressionMethod === 8 ? inflateMember(d.subarray(start, end), size, this.path, name) : d.subarray(start, end);
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
  const lim = resolveLimits(limits);
  const eocd = findEocd(data, file);
  if (eocd >= 20 && data.readUInt32LE(eocd - 20) === 0x07064b50) return null; // zip64 locator
  if (data.readUInt16LE(eocd + 4) !== 0) throw zipInvalid(file, 'multi-disk zip files are not supported');
  const count = data.readUInt16LE(eocd + 10);
  checkMemberCount(file, count, lim.maxMembers);
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
    const facts: ZipEntryFacts = {
      name,
      externalAttributes: external,
      generalPurposeBitFlag: flags,
      compressionMethod: method,
      compressedSize,
      uncompressedSize,
      localHeaderOffset: localOffset,
    };
    checkEntry(file, facts, lim.maxRatio);
    const member: ZipMember = {
      name,
      compressedSize,
      uncompressedSize,
      isDirectory: isDirectoryName(name),
      crc32: crc >>> 0,
      mtime: yauzl.dosDateTimeToDate(data.readUInt16LE(at + 14), data.readUInt16LE(at + 12)),
    };
    entries.push({ member, facts });
    at = next;
  }
  // Exact duplicates are found here too (a name folds like itself), after every entry passed checkEntry, as in PackageZip.
  checkArchive(
    file,
    data.length,
    entries.map((e) => e.facts),
    lim.maxTotalUncompressed,
  );
  return SmallZip.of(data, file, new Map(entries.map((e) => [e.member.name, e])));
}
