// DIR/.wapt-get-mirror.json: what one mirror directory remembers between runs.
//   trust.<identity>  {"version":N,"packages_sha256":"…"}  highest statement accepted (X2 rollback)
//   repository        the identity first accepted (TOFU), unless the section pins repository_id
//   files.<name>      {"size","mtime_ms","ino","sha256"}    so a run hashes only files that changed
// Keyed by the origin's repository identity like the client's state (update/index-trust.ts).
// 0600, written temp-then-rename (atomic-file.ts), never read through a symlink.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { WaptError } from '../../errors.js';
import { atomicWriteFile } from '../../atomic-file.js';
import { PRIVATE_FILE_MODE } from '../../private-state.js';

export const MIRROR_STATE_FILE = '.wapt-get-mirror.json';
export const MIRROR_LOCK_FILE = '.wapt-get-mirror.lock';
/** Resumable parts and verified packages not yet renamed into the mirror (0700). */
export const MIRROR_WORK_DIR = '.wapt-get-mirror.work';

export interface TrustMark {
  version: number;
  packages_sha256: string;
  /** The content statement's own mark (a freshness statement may not renew an older content), as update/index-trust.ts keeps it. */
  statement_version?: number;
  statement_packages_sha256?: string;
}

export interface FileMark {
  size: number;
  mtime_ms: number;
  ino: number;
  sha256: string;
}

export interface MirrorState {
  format: 1;
  repository: string | null;
  trust: Record<string, TrustMark>;
  files: Record<string, FileMark>;
}

export const emptyState = (): MirrorState => ({ format: 1, repository: null, trust: {}, files: {} });

function isTrustMark(v: unknown): v is TrustMark {
  const t = v as TrustMark;
  return typeof t === 'object' && t !== null && Number.isSafeInteger(t.version) && typeof t.packages_sha256 === 'string';
}

/**
 * The state of `dir`; absent → empty. A state that does not parse is refused (STATE_UNSAFE):
 * starting over would forget the rollback mark, which is the point of keeping it.
 */
export async function readMirrorState(dir: string): Promise<MirrorState> {
  const file = join(dir, MIRROR_STATE_FILE);
  const st = await fs.lstat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (st === null) return emptyState();
  const bad = (why: string) =>
    new WaptError('STATE_UNSAFE', `${file} ${why}; remove it to start the mirror over (its rollback mark is then forgotten)`, {
      detail: { path: file, reason: why },
    });
  if (!st.isFile()) throw bad('is not a regular file');
  if (process.platform !== 'win32' && st.uid !== process.getuid!() && st.uid !== 0) throw bad('belongs to another user');
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    throw bad('is not valid JSON');
  }
  const s = raw as Partial<MirrorState>;
  if (s.format !== 1 || typeof s.trust !== 'object' || s.trust === null || !Object.values(s.trust).every(isTrustMark)) throw bad('is not a mirror state');
  const files: Record<string, FileMark> = {};
  for (const [name, f] of Object.entries(s.files ?? {})) {
    if (typeof f?.sha256 === 'string' && Number.isFinite(f.size) && Number.isFinite(f.mtime_ms) && Number.isFinite(f.ino)) files[name] = f;
  }
  return { format: 1, repository: typeof s.repository === 'string' ? s.repository : null, trust: s.trust, files };
}

export async function writeMirrorState(dir: string, state: MirrorState): Promise<void> {
  await atomicWriteFile(join(dir, MIRROR_STATE_FILE), JSON.stringify(state), { mode: PRIVATE_FILE_MODE });
}

/** X2 after an accepted statement: both marks only rise (verifyStatement refused anything below them), as update/index-trust.ts records them. */
export function raiseTrust(state: MirrorState, st: { repository: string; version: number; packagesSha256: string; statementVersion: number }): void {
  const prev = state.trust[st.repository];
  const effective = !prev || st.version > prev.version ? { version: st.version, packages_sha256: st.packagesSha256 } : prev;
  const content =
    prev?.statement_version !== undefined && prev.statement_version > st.statementVersion
      ? { statement_version: prev.statement_version, statement_packages_sha256: prev.statement_packages_sha256 }
      : { statement_version: st.statementVersion, statement_packages_sha256: st.packagesSha256 };
  state.trust[st.repository] = { version: effective.version, packages_sha256: effective.packages_sha256, ...content };
  state.repository ??= st.repository;
}
