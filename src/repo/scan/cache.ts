// The scanner's cache (W-F2: "entries whose file did not change may be reused").
// Two files in the repository directory:
//   .wapt-get-scan-cache             JSON: per-file facts, each with the offset and
//                                     length of its serialised index block in the blob;
//                                     replaced atomically (temp + rename) on every save.
//   .wapt-get-scan-cache.<gen>.blob  the blocks, append-only: a scan that changed one
//                                     package appends one block instead of rewriting
//                                     20 MB. Compacted into a new generation when more
//                                     than half of it is dead.
// The JSON names its blob and the byte count it relies on; appended bytes are
// fsynced before the JSON that points at them is renamed into place, so after a
// crash the JSON never references bytes that are not on disk.
// Both are written through private-file.ts: never through a symlink, read back only when ours.
import { constants } from 'node:fs';
import { readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { SetupKind } from '../../package/index.js';
import { openOwnFile, readOwnFile, replaceFile } from './private-file.js';

export const SCAN_CACHE_FILE = '.wapt-get-scan-cache';
// 3: entries cached before issue 8's checks (control safety, chain constraints, member identity) are read again.
const FORMAT = 3;
const BLOB_RE = /^\.wapt-get-scan-cache\.(\d+)\.blob$/;
const COMPACT_MIN_DEAD = 1024 * 1024;
/** Buffers per writev call (IOV_MAX is 1024 on Linux). */
const WRITEV_MAX = 1024;

export interface CachedPackage {
  size: number;
  mtimeMs: number;
  ino: number;
  md5: string;
  sha256: string;
  package: string;
  version: string;
  section: string;
  signatureDate: string;
  setupKind: SetupKind;
  /** Fingerprints of WAPT/certificate.crt, signer first; PEMs live in ScanCache.certs. */
  certs: string[];
  /** Fingerprint of the certificate whose control signature (and W-D5 rule) verified; null: not checked. */
  verified: string | null;
  /** The index block (control + filename/size/md5sum/sha256), UTF-8. */
  block: Buffer;
  /** Where `block` sits in the current blob; absent for blocks made by this scan. */
  stored?: { off: number; len: number };
}

/** Where the last written `Packages` stands, to avoid rewriting an identical index. */
export interface IndexStamp {
  size: number;
  mtimeMs: number;
  ino: number;
  packagesSha256: string;
}

export interface ScanCache {
  entries: Map<string, CachedPackage>;
  certs: Map<string, string>;
  lastStatementVersion: number | null;
  index: IndexStamp | null;
  /** Blob generation and the byte count the entries rely on. */
  blob: { gen: number; bytes: number };
}

// [name, size, mtimeMs, ino, md5, sha256, package, version, section, signatureDate, setupKind, certs, verified, off, len]
type Row = [string, number, number, number, string, string, string, string, string, string, SetupKind, string[], string | null, number, number];
interface StoredJson {
  format: number;
  blob: { gen: number; bytes: number };
  certs: Record<string, string>;
  lastStatementVersion: number | null;
  index: IndexStamp | null;
  entries: Row[];
}

const blobName = (gen: number) => `${SCAN_CACHE_FILE}.${gen}.blob`;

export function emptyScanCache(): ScanCache {
  return { entries: new Map(), certs: new Map(), lastStatementVersion: null, index: null, blob: { gen: 0, bytes: 0 } };
}

/** A missing, truncated or foreign cache is not an error: the scan just reads every file. */
export async function loadScanCache(dir: string, onWarning?: (m: string) => void): Promise<ScanCache> {
  let text: string;
  try {
    text = (await readOwnFile(join(dir, SCAN_CACHE_FILE))).toString('utf8');
  } catch (err) {
    // Absent is normal; a symlink or a file another user put there is not our cache.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onWarning?.(`${SCAN_CACHE_FILE}: ignored (${(err as Error).message}); every package is read again`);
    return emptyScanCache();
  }
  try {
    const json = JSON.parse(text) as StoredJson;
    if (json.format !== FORMAT) throw new Error(`format ${json.format}, expected ${FORMAT}`);
    const data = json.blob.bytes === 0 ? Buffer.alloc(0) : await readOwnFile(join(dir, blobName(json.blob.gen)));
    if (data.length < json.blob.bytes) throw new Error('blob shorter than recorded');
    const entries = new Map<string, CachedPackage>();
    for (const [name, size, mtimeMs, ino, md5, sha256, pkg, version, section, signatureDate, setupKind, certs, verified, off, len] of json.entries) {
      // Every block starts with its `package ` line (W-C2 order): a cheap guard against misplaced offsets.
      if (off + len > json.blob.bytes || data[off] !== 0x70 || data[off + 7] !== 0x20) throw new Error(`bad block for ${name}`);
      const block = data.subarray(off, off + len);
      entries.set(name, {
        size,
        mtimeMs,
        ino,
        md5,
        sha256,
        package: pkg,
        version,
        section,
        signatureDate,
        setupKind,
        certs,
        verified,
        block,
        stored: { off, len },
      });
    }
    return { entries, certs: new Map(Object.entries(json.certs)), lastStatementVersion: json.lastStatementVersion, index: json.index, blob: json.blob };
  } catch (err) {
    onWarning?.(`${SCAN_CACHE_FILE}: ignored (${(err as Error).message}); every package is read again`);
    return emptyScanCache();
  }
}

/** Appends (or compacts) the blob, then replaces the JSON. No fsync of the JSON: losing it only costs a full rescan. */
export async function saveScanCache(dir: string, cache: ScanCache, opts: { compactMinDead?: number } = {}): Promise<void> {
  const compacted = await writeScanBlob(dir, cache, opts);
  await writeScanJson(dir, cache, compacted);
}

/**
 * The blob half of saveScanCache: appends the blocks made by this scan (or
 * compacts into a new generation) and fsyncs them. Safe to run while the index
 * is being written: the JSON on disk still names the old bytes until
 * writeScanJson replaces it. Returns whether a new generation was started.
 */
export async function writeScanBlob(dir: string, cache: ScanCache, opts: { compactMinDead?: number; compact?: boolean } = {}): Promise<boolean> {
  let live = 0;
  for (const e of cache.entries.values()) if (e.stored && cache.blob.gen > 0) live += e.stored.len;
  const dead = cache.blob.bytes - live;
  const compact = opts.compact || cache.blob.gen === 0 || (dead > (opts.compactMinDead ?? COMPACT_MIN_DEAD) && dead > live);
  const gen = compact ? cache.blob.gen + 1 : cache.blob.gen;
  let at = compact ? 0 : cache.blob.bytes;
  const parts: Buffer[] = [];
  for (const e of cache.entries.values()) {
    if (compact || !e.stored) {
      e.stored = { off: at, len: e.block.length };
      parts.push(e.block);
      at += e.block.length;
    }
  }
  if (compact) {
    // A new generation: a fresh private file renamed into place.
    await replaceFile(dir, join(dir, blobName(gen)), (fh) => writeAllAt(fh, parts, 0), { sync: true });
  } else if (parts.length > 0) {
    let fh: FileHandle;
    try {
      fh = await openOwnFile(join(dir, blobName(gen)), constants.O_RDWR);
    } catch {
      // Gone, replaced by a symlink or by another user's file: start a new generation instead.
      return writeScanBlob(dir, cache, { ...opts, compact: true });
    }
    try {
      // Positional writes (no 20 MB concatenation); a tail left by an interrupted save is simply overwritten.
      await writeAllAt(fh, parts, cache.blob.bytes);
      await fh.truncate(at);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }
  cache.blob = { gen, bytes: at };
  return compact;
}

/** The JSON half of saveScanCache: written after the blob it points into (temp + rename). */
export async function writeScanJson(dir: string, cache: ScanCache, compacted: boolean): Promise<void> {
  const json: StoredJson = {
    format: FORMAT,
    blob: cache.blob,
    certs: Object.fromEntries(cache.certs),
    lastStatementVersion: cache.lastStatementVersion,
    index: cache.index,
    entries: [...cache.entries].map(([name, e]) => [
      name,
      e.size,
      e.mtimeMs,
      e.ino,
      e.md5,
      e.sha256,
      e.package,
      e.version,
      e.section,
      e.signatureDate,
      e.setupKind,
      e.certs,
      e.verified,
      e.stored!.off,
      e.stored!.len,
    ]),
  };
  await replaceFile(dir, join(dir, SCAN_CACHE_FILE), (fh) => fh.writeFile(JSON.stringify(json)));
  if (compacted) await removeOtherBlobs(dir, cache.blob.gen);
}

/** Writes `parts` back to back from `pos`, resuming after short writes. */
async function writeAllAt(fh: FileHandle, parts: Buffer[], pos: number): Promise<void> {
  let queue = parts;
  while (queue.length > 0) {
    const batch = queue.slice(0, WRITEV_MAX);
    let { bytesWritten } = await fh.writev(batch, pos);
    if (bytesWritten === 0) throw new Error('the scan cache blob could not be written (0 bytes written)');
    pos += bytesWritten;
    let i = 0;
    while (i < batch.length && bytesWritten >= batch[i]!.length) bytesWritten -= batch[i++]!.length;
    queue = i < batch.length ? [batch[i]!.subarray(bytesWritten), ...batch.slice(i + 1), ...queue.slice(WRITEV_MAX)] : queue.slice(WRITEV_MAX);
  }
}

async function removeOtherBlobs(dir: string, keep: number): Promise<void> {
  for (const name of await readdir(dir)) {
    const m = BLOB_RE.exec(name);
    if (m && Number(m[1]) !== keep) await rm(join(dir, name), { force: true });
  }
}
