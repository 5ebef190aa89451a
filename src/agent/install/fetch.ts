// Getting one planned package into the cache and proving it before anything of it runs,
// through cache.ts (index digest and size, then manifest, signature, trusted signer,
// code-signing rule; a file that fails is deleted). Local files given on the command
// line get the same package verification, but are never deleted.
import { ERROR_TABLE, EXIT, WaptError, asWaptError } from '../../errors.js';
import type { TrustStore } from '../../crypto/index.js';
import { verifyPackage, type VerifiedPackage } from '../../package/index.js';
import { downloadCandidate } from '../cache.js';
import type { Candidate } from '../resolver/index.js';
import type { AgentRuntime } from '../runtime.js';

export interface FetchDeps {
  rt: AgentRuntime;
  now?: Date;
  /** Download progress of the package being fetched (drives the bar on a TTY). */
  progress?: (pkg: string, done: number, total: number | null) => void;
}

/** Network failures become ERR_DOWNLOAD_PACK (the OCS field code), with the cause's code kept. */
function downloadError(c: Candidate, err: unknown): WaptError {
  const e = asWaptError(err);
  const network = ERROR_TABLE[e.code].exit === EXIT.NETWORK && e.code !== 'ERR_DOWNLOAD_PACK';
  if (!network) return e;
  return new WaptError('ERR_DOWNLOAD_PACK', `cannot download ${c.filename} from ${c.repo}: [${e.code}] ${e.message}`, {
    cause: e,
    detail: { ...e.detail, filename: c.filename, repo: c.repo, cause: e.code },
  });
}

/** The one door through which an indexed package reaches the installer. */
export async function obtainVerified(c: Candidate, deps: FetchDeps): Promise<{ file: string; verified: VerifiedPackage; downloaded: boolean }> {
  try {
    const pkg = c.control.get('package') ?? c.filename;
    const onProgress = deps.progress ? (done: number, total: number | null) => deps.progress!(pkg, done, total) : undefined;
    const got = await downloadCandidate(deps.rt, c, deps.now, onProgress);
    return { file: got.path, verified: got.verified, downloaded: got.status === 'downloaded' };
  } catch (err) {
    throw downloadError(c, err);
  }
}

/** A .wapt named on the command line: verified like a downloaded one (W-D3..W-D5). */
export async function verifyLocal(file: string, trust: TrustStore): Promise<VerifiedPackage> {
  return verifyPackage(file, { trust });
}
