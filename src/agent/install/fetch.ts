// Getting one planned package into the cache and proving it before anything of it runs:
// the index digest (sha256, else md5) and size, then the full package verification
// (manifest, signature, trusted signer, code-signing rule). A file that fails is deleted
// so the next run downloads it again; nothing of it is ever extracted.
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { WaptError, asWaptError } from '../../errors.js';
import { hashFile, verifyPackage, type VerifiedPackage } from '../../package/index.js';
import type { TrustStore } from '../../crypto/index.js';
import type { HttpClient } from '../../repo/http/index.js';
import type { Candidate } from '../resolver/index.js';

export interface FetchDeps {
  cacheDir: string;
  trust: TrustStore;
  /** The HTTP client and base URL of the repository named by candidate.repo; null when unknown. */
  repoFor(name: string): { http: HttpClient; url: string } | null;
  onProgress?: (pkg: string, done: number, total: number | null) => void;
}

/** The cache path of an index entry; its filename comes from the network, so no separators. */
export function cachePath(cacheDir: string, filename: string): string {
  const base = path.basename(filename);
  if (base !== filename || filename === '' || filename.startsWith('.') || /[\0\\]/.test(filename)) {
    throw new WaptError('ERR_DOWNLOAD_PACK', `refusing the index filename ${JSON.stringify(filename)}: it is not a plain file name`, { detail: { filename } });
  }
  return path.join(cacheDir, base);
}

const exists = (p: string) => stat(p).then((s) => s.isFile(), () => false);

/** Downloads (resuming a .part) unless the file is already cached. */
export async function download(c: Candidate, deps: FetchDeps): Promise<{ file: string; downloaded: boolean }> {
  const file = cachePath(deps.cacheDir, c.filename);
  if (await exists(file)) return { file, downloaded: false };
  const repo = deps.repoFor(c.repo);
  const name = c.control.get('package') ?? c.filename;
  if (!repo) throw new WaptError('ERR_DOWNLOAD_PACK', `${name}: no repository named ${c.repo} is configured`, { detail: { repo: c.repo } });
  const url = `${repo.url}/${encodeURIComponent(c.filename)}`;
  await mkdir(deps.cacheDir, { recursive: true });
  try {
    await repo.http.fetchToFile(url, file, {
      expectedSha256: c.sha256,
      expectedSize: c.size,
      resume: true,
      onProgress: (done, total) => deps.onProgress?.(name, done, total),
    });
  } catch (err) {
    const e = asWaptError(err);
    if (e.code === 'ERR_BAD_DIGEST' || e.code === 'ERR_OUT_OF_SPACE') throw e;
    throw new WaptError('ERR_DOWNLOAD_PACK', `cannot download ${c.filename}: [${e.code}] ${e.message}`, {
      cause: e,
      detail: { url, cause: e.code },
    });
  }
  return { file, downloaded: true };
}

/** Index digest and size, then verifyPackage; the cached file is deleted on any failure. */
export async function verifyCached(file: string, c: Candidate | null, trust: TrustStore, deleteOnFailure = true): Promise<VerifiedPackage> {
  try {
    if (c) await checkDigest(file, c);
    const v = await verifyPackage(file, { trust });
    if (c) {
      const want = `${c.control.get('package')} ${c.control.get('version')}`;
      if (`${v.package} ${v.version}` !== want) {
        throw new WaptError('ERR_BAD_DIGEST', `${path.basename(file)} holds ${v.package} ${v.version}, the index says ${want}`, { detail: { file } });
      }
    }
    return v;
  } catch (err) {
    if (deleteOnFailure) await rm(file, { force: true });
    throw err;
  }
}

async function checkDigest(file: string, c: Candidate): Promise<void> {
  const st = await stat(file);
  const h = await hashFile(file, ['sha256', 'md5']);
  const problems: string[] = [];
  if (c.size !== undefined && st.size !== c.size) problems.push(`size ${st.size}, index says ${c.size}`);
  if (c.sha256 && h.sha256 !== c.sha256.toLowerCase()) problems.push(`sha256 ${h.sha256}, index says ${c.sha256}`);
  else if (!c.sha256 && c.md5sum && h.md5 !== c.md5sum.toLowerCase()) problems.push(`md5 ${h.md5}, index says ${c.md5sum}`);
  if (problems.length > 0) {
    throw new WaptError('ERR_BAD_DIGEST', `cached ${path.basename(file)} does not match the index (${problems.join('; ')}); it was deleted`, {
      detail: { file, problems },
    });
  }
}

/** download + verifyCached: the one door through which a package reaches the installer. */
export async function obtainVerified(c: Candidate, deps: FetchDeps): Promise<{ file: string; verified: VerifiedPackage; downloaded: boolean }> {
  const { file, downloaded } = await download(c, deps);
  const verified = await verifyCached(file, c, deps.trust);
  return { file, verified, downloaded };
}
