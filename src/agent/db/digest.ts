// A SHA-256 of the DB file as persist() last wrote it, kept beside it in
// `<db>.sha256`. When the file read at open has exactly that digest it is the complete
// image of a DB that was sound in memory, so the full `PRAGMA integrity_check`
// (~0.15 s at 10,000 index rows, paid by every command) can be skipped. Any other
// case (no digest, a stale one after a crash between the two renames, a file changed
// by another tool, a damaged page) gets the full check as before: the digest only
// ever skips work, it never accepts a file the check would reject.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';

export function digestPathOf(dbPath: string): string {
  return `${dbPath}.sha256`;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The recorded digest, or undefined when there is none or it cannot be read. */
export async function readDigest(dbPath: string): Promise<string | undefined> {
  try {
    const text = (await fs.readFile(digestPathOf(dbPath), 'latin1')).trim();
    return /^[0-9a-f]{64}$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records the digest of the bytes just written (temp + rename, so a reader sees an old
 * or a new digest, never half of one). No fsync: a digest lost to a crash only costs
 * one full check. Best effort: failing to record it never fails persist().
 */
export async function writeDigest(dbPath: string, hex: string): Promise<void> {
  const target = digestPathOf(dbPath);
  // Not `<db>.tmp-…`: sweepStaleTemps(<db>) must not mistake it for a DB temp file.
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.writeFile(tmp, `${hex}\n`, { mode: 0o600, flag: 'wx' }); // private like the DB, never through a link
    await fs.rename(tmp, target);
  } catch {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}

/** Drops the digest (the DB it described was moved aside). */
export async function removeDigest(dbPath: string): Promise<void> {
  await fs.rm(digestPathOf(dbPath), { force: true }).catch(() => undefined);
}
