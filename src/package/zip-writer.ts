// Deterministic zip writing with yazl: the same inputs and mtime give the same
// bytes on any machine, in any time zone (reproducible builds, SOURCE_DATE_EPOCH).

import { promises as fsp } from 'node:fs';
import { WaptError, asWaptError } from '../errors.js';
import { ZipBuilder } from './zip-builder.js';
import { checkMemberName } from './zip-names.js';

export { shouldCompress, deterministicEntryOptions } from './zip-builder.js';

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
 * Writes `inputs` in the given order to `dest` (temp file, fsync, rename) through the
 * same ZipBuilder that builds packages. Every member gets the same mtime and mode 0644;
 * no directory entries.
 */
export async function writeZip(dest: string, inputs: ZipInput[], opts: WriteZipOptions): Promise<{ size: number }> {
  const seen = new Set<string>();
  for (const input of inputs) {
    checkMemberName(input.name); // never write what the reader refuses
    if (input.name.endsWith('/')) throw new WaptError('INTERNAL', `writeZip: directory entries are not written (${input.name})`);
    if (seen.has(input.name)) {
      throw new WaptError('ZIP_DUPLICATE_ENTRY', `writeZip: ${input.name} given twice`, { detail: { member: input.name } });
    }
    seen.add(input.name);
  }
  const zb = ZipBuilder.create(dest, { mtime: opts.mtime, level: opts.level });
  try {
    for (const input of inputs) {
      if ('buffer' in input.source) zb.addBuffer(input.name, input.source.buffer, input.compress);
      else await zb.addFile(input.name, input.source.path, input.compress);
    }
    await zb.finish();
  } catch (err) {
    await zb.abort();
    throw asWaptError(err);
  }
  return { size: (await fsp.stat(dest)).size };
}
