// Getting one planned package into the cache and proving it before anything of it runs,
// through cache.ts (index digest and size, then manifest, signature, trusted signer,
// code-signing rule; a file that fails is deleted). Local files given on the command
// line get the same package verification, but are never deleted.
// Issue 8 §5, check the bytes you use: what is extracted is what was verified. A
// downloaded package is verified through an open handle that the installer then extracts
// from; a local file (which another user may own and rewrite) is first copied into a
// private directory of ours, and only that copy is verified, planned and extracted.
import { constants as fsConstants } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ERROR_TABLE, EXIT, WaptError, asWaptError } from '../../errors.js';
import type { TrustStore } from '../../crypto/index.js';
import { PackageZip, verifyPackage, type VerifiedPackage } from '../../package/index.js';
import { ensurePrivateDir } from '../../private-state.js';
import { downloadCandidate } from '../cache.js';
import { sweepDeadRunDirs } from '../hooks/stored-hook.js';
import type { Candidate } from '../resolver/index.js';
import type { AgentRuntime } from '../runtime.js';

export interface FetchDeps {
  rt: AgentRuntime;
  now?: Date;
  /** Download progress of the package being fetched (drives the bar on a TTY). */
  progress?: (pkg: string, done: number, total: number | null) => void;
}

/** A package whose bytes were verified through `zip`, still open: extract from it, then close it. */
export interface OpenVerified {
  file: string;
  verified: VerifiedPackage;
  zip: PackageZip;
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

/** The one door through which an indexed package reaches the cache (download-upgrade: nothing stays open). */
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

/** The one door through which an indexed package reaches the installer: verified through the handle it is extracted from. */
export async function obtainOpenVerified(c: Candidate, deps: FetchDeps): Promise<OpenVerified> {
  try {
    const pkg = c.control.get('package') ?? c.filename;
    const onProgress = deps.progress ? (done: number, total: number | null) => deps.progress!(pkg, done, total) : undefined;
    const got = await downloadCandidate(deps.rt, c, deps.now, onProgress, { keepOpen: true });
    return { file: got.path, verified: got.verified, zip: got.zip! };
  } catch (err) {
    throw downloadError(c, err);
  }
}

/** Private copies of command-line packages live here, under the (private) cache. */
export const LOCAL_STAGE_DIR = '.local';

export interface StagedLocal {
  /** The private copy: what is verified, planned and extracted. */
  file: string;
  /** The path the person gave. */
  original: string;
  verified: VerifiedPackage;
  /** Removes the private copy. */
  cleanup(): Promise<void>;
}

/**
 * A .wapt named on the command line (W-D3..W-D5): copied into a fresh 0700 directory of
 * ours under <cache>/.local, and that copy verified like a downloaded package. The copy
 * is a snapshot: whatever the file's owner does to it afterwards changes nothing.
 */
export async function stageLocal(file: string, rt: AgentRuntime): Promise<StagedLocal> {
  const root = join(rt.config.cacheDir, LOCAL_STAGE_DIR);
  const onWarning = (m: string) => rt.log.warn(m);
  await ensurePrivateDir(rt.config.cacheDir, { onWarning });
  await ensurePrivateDir(root, { onWarning });
  await sweepDeadRunDirs(root); // copies a killed run left behind
  const dir = await mkdtemp(join(root, `${process.pid}-`)); // 0700
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const copy = join(dir, basename(file));
    await copyFile(file, copy, fsConstants.COPYFILE_EXCL);
    return { file: copy, original: file, verified: await verifyPackage(copy, { trust: rt.trust }), cleanup };
  } catch (err) {
    await cleanup();
    throw asWaptError(err);
  }
}

/** A staged local copy, verified again through the handle the installer extracts from. */
export async function openVerifiedLocal(file: string, trust: TrustStore): Promise<OpenVerified> {
  const zip = await PackageZip.open(file);
  try {
    return { file, verified: await verifyPackage(file, { trust, zip }), zip };
  } catch (err) {
    zip.close();
    throw err;
  }
}

/** A .wapt verified in place (nothing of it is extracted from this verification). */
export async function verifyLocal(file: string, trust: TrustStore): Promise<VerifiedPackage> {
  return verifyPackage(file, { trust });
}
