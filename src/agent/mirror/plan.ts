// Which files a mirror run must fetch, may keep and will remove: a file already in DIR
// is kept only when its bytes are those the verified index entry names (sha256, size).
// Hashing 10,000 files each run would cost more than the index: a file whose inode,
// size and mtime match what the last run recorded keeps the digest recorded then.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { WaptError } from '../../errors.js';
import { hashFile } from '../../package/index.js';
import type { AvailableInput } from '../db/index.js';
import type { FileMark, MirrorState } from './state.js';

export interface WantedFile {
  filename: string;
  package: string;
  version: string;
  size: number | null;
  sha256: string | null;
  md5sum: string | null;
}

export interface MirrorPlan {
  download: WantedFile[];
  keep: WantedFile[];
  /** `*.wapt` files in DIR the new index no longer lists (removed after it is published). */
  remove: string[];
  /** Fresh digests of kept files, for the next run's state. */
  marks: Record<string, FileMark>;
}

/** One file per name: two entries naming one file with different digests cannot both be served. */
export function wantedFiles(entries: readonly AvailableInput[]): WantedFile[] {
  const byName = new Map<string, WantedFile>();
  for (const e of entries) {
    const w: WantedFile = {
      filename: e.filename,
      package: e.package,
      version: e.version,
      size: e.size ?? null,
      sha256: e.sha256 ?? null,
      md5sum: e.md5sum ?? null,
    };
    const seen = byName.get(e.filename);
    if (seen && (seen.sha256 !== w.sha256 || seen.size !== w.size)) {
      throw new WaptError(
        'INDEX_INVALID',
        `the index lists ${e.filename} twice with different digests (${seen.package} ${seen.version}, ${w.package} ${w.version})`,
        {
          detail: { filename: e.filename },
        },
      );
    }
    byName.set(e.filename, w);
  }
  return [...byName.values()];
}

/** The sha256 of `path` if it is a regular file, reusing the last run's digest when nothing about it changed. */
async function currentDigest(path: string, mark: FileMark | undefined): Promise<FileMark | null> {
  const st = await fs.lstat(path).catch(() => null);
  if (!st?.isFile()) return null;
  if (mark && mark.ino === st.ino && mark.size === st.size && mark.mtime_ms === st.mtimeMs) return mark;
  const { sha256 } = await hashFile(path, ['sha256']);
  return { size: st.size, mtime_ms: st.mtimeMs, ino: st.ino, sha256: sha256! };
}

export async function planMirror(dir: string, wanted: readonly WantedFile[], state: MirrorState): Promise<MirrorPlan> {
  const plan: MirrorPlan = { download: [], keep: [], remove: [], marks: {} };
  for (const w of wanted) {
    // no sha256 in the entry (a WAPT-made unsigned index): nothing to compare with, fetch and verify again
    const have = w.sha256 === null ? null : await currentDigest(join(dir, w.filename), state.files[w.filename]);
    if (have && have.sha256 === w.sha256 && (w.size === null || have.size === w.size)) {
      plan.keep.push(w);
      plan.marks[w.filename] = have;
    } else plan.download.push(w);
  }
  const names = new Set(wanted.map((w) => w.filename));
  for (const name of await fs.readdir(dir)) {
    if (name.toLowerCase().endsWith('.wapt') && !name.startsWith('.') && !names.has(name)) plan.remove.push(name);
  }
  return plan;
}
