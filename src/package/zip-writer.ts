// Deterministic zip writing with yazl: the same inputs and mtime give the same
// bytes on any machine, in any time zone (reproducible builds, SOURCE_DATE_EPOCH).

import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extname } from 'node:path';
import yazl from 'yazl';
import { WaptError, asWaptError } from '../errors.js';
import { HASH_READ_SIZE } from './hash-stream.js';
import { checkMemberName } from './zip-names.js';

export interface ZipInput {
  name: string;
  source: { path: string } | { buffer: Buffer };
  /** Overrides the choice by file type. */
  compress?: boolean;
}

export interface WriteZipOptions {
  mtime: Date;
  /** zlib level for deflated members, 1-9. Default 6. */
  level?: number;
}

const FILE_MODE = 0o100644;

/**
 * Stored, not deflated: formats that are already compressed. Deflate gains
 * ~0-2% on them for a lot of CPU, and stored members are hashed at disk speed
 * when packages are verified (hashAllMembers is the hot path). Installers
 * (exe/msi/msu/cab) are almost always compressed archives themselves.
 */
const STORED_EXTENSIONS = new Set(
  ('zip gz tgz bz2 tbz xz txz lz lzma zst 7z rar cab msi msu msix appx exe jar war apk ' +
    'deb rpm wapt nupkg whl dmg iso jpg jpeg png gif webp avif heic mp3 mp4 m4a mkv webm ogg ' +
    'docx xlsx pptx odt ods odp woff woff2').split(' '),
);

export function shouldCompress(name: string): boolean {
  return !STORED_EXTENSIONS.has(extname(name).slice(1).toLowerCase());
}

/** Reads SOURCE_DATE_EPOCH (integer seconds since 1970, UTC); undefined when unset or empty. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv | Record<string, string | undefined>): Date | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw.trim() === '') return undefined;
  // The reproducible-builds spec asks tools to fail on a malformed value rather than ignore it.
  if (!/^\d+$/.test(raw.trim())) {
    throw new WaptError('USAGE', `SOURCE_DATE_EPOCH must be an integer number of seconds, got ${JSON.stringify(raw)}`);
  }
  return new Date(Number(raw.trim()) * 1000);
}

/**
 * yazl encodes the DOS timestamp from a Date's *local* getters, so the bytes
 * would depend on the machine's time zone (and shift inside DST gaps). This
 * Date reports its UTC fields through the local getters: the DOS fields carry
 * UTC wall-clock time everywhere. With forceDosTimestamp yazl adds no UT extra
 * field, which would otherwise hold the same instant a second time.
 */
class UtcFieldsDate extends Date {
  override getFullYear(): number {
    return this.getUTCFullYear();
  }
  override getMonth(): number {
    return this.getUTCMonth();
  }
  override getDate(): number {
    return this.getUTCDate();
  }
  override getHours(): number {
    return this.getUTCHours();
  }
  override getMinutes(): number {
    return this.getUTCMinutes();
  }
  override getSeconds(): number {
    return this.getUTCSeconds();
  }
}

/** Clamped one day inside DOS's 1980-2107 range so yazl's own (local-time) clamp never applies. */
function dosMtime(d: Date): Date {
  const min = Date.UTC(1980, 0, 2);
  const max = Date.UTC(2107, 11, 30);
  return new UtcFieldsDate(Math.min(Math.max(d.getTime(), min), max));
}

/** yazl entry options that make a member's bytes depend only on its name, data, mtime and level. */
export function deterministicEntryOptions(name: string, o: { mtime: Date; level: number; compress?: boolean }) {
  const compress = o.compress ?? shouldCompress(name);
  return {
    mtime: dosMtime(o.mtime),
    mode: FILE_MODE,
    compress,
    compressionLevel: compress ? o.level : 0,
    forceZip64Format: false,
    forceDosTimestamp: true,
  };
}

/**
 * Writes `inputs` in the given order to `dest` (temp file, fsync, rename).
 * Every member gets the same mtime and mode 0644; no directory entries.
 */
export async function writeZip(dest: string, inputs: ZipInput[], opts: WriteZipOptions): Promise<{ size: number }> {
  const level = opts.level ?? 6;
  const seen = new Set<string>();
  for (const input of inputs) {
    checkMemberName(input.name); // never write what the reader refuses
    if (input.name.endsWith('/')) throw new WaptError('INTERNAL', `writeZip: directory entries are not written (${input.name})`);
    if (seen.has(input.name)) {
      throw new WaptError('ZIP_DUPLICATE_ENTRY', `writeZip: ${input.name} given twice`, { detail: { member: input.name } });
    }
    seen.add(input.name);
  }
  const sizes = await Promise.all(
    inputs.map(async (i) => ('path' in i.source ? (await fsp.stat(i.source.path)).size : i.source.buffer.length)),
  ).catch((err: unknown) => {
    throw asWaptError(err);
  });

  const zip = new yazl.ZipFile();
  inputs.forEach((input, i) => {
    const common = deterministicEntryOptions(input.name, { mtime: opts.mtime, level, compress: input.compress });
    if ('buffer' in input.source) {
      zip.addBuffer(input.source.buffer, input.name, common);
    } else {
      const path = input.source.path;
      // Lazy: the file is opened only when yazl reaches it, read in 1 MiB chunks; size is checked.
      zip.addReadStreamLazy(input.name, { ...common, size: sizes[i]! }, (cb) => {
        const stream = createReadStream(path, { highWaterMark: HASH_READ_SIZE });
        // yazl does not watch streams it is handed: route read errors to the ZipFile.
        stream.on('error', (err) => zip.emit('error', err));
        cb(null, stream);
      });
    }
  });
  zip.end();
  return writeStreamAtomically(dest, zip);
}

async function writeStreamAtomically(dest: string, zip: yazl.ZipFile): Promise<{ size: number }> {
  const tmp = `${dest}.tmp-${process.pid}`;
  try {
    // The stream owns its fd; `flush` fsyncs before close so the rename below never exposes a hole.
    const out = createWriteStream(tmp, { mode: 0o644, flush: true, highWaterMark: HASH_READ_SIZE });
    // yazl reports input errors (unreadable file, size changed while reading) on the ZipFile, not on its stream.
    const inputFailed = new Promise<never>((_, reject) => zip.once('error', reject));
    inputFailed.catch(() => undefined); // a late error after success must not go unhandled
    try {
      await Promise.race([pipeline(zip.outputStream, out), inputFailed]);
    } finally {
      if (!out.closed) {
        out.destroy();
        await new Promise<void>((r) => out.once('close', () => r()));
      }
    }
    const { size } = await fsp.stat(tmp);
    await fsp.rename(tmp, dest);
    return { size };
  } catch (err) {
    (zip.outputStream as Readable).destroy();
    await fsp.rm(tmp, { force: true });
    throw asWaptError(err);
  }
}
