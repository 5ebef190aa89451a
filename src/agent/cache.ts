// The package cache (dbdir/cache): a file lands here only through a verified
// download, and a file that fails any check is deleted before the error is raised,
// so nothing unverified ever sits under a package's name (W-D3..W-D5, W-F3).
import { constants as fsConstants } from 'node:fs';
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WaptError, asWaptError } from '../errors.js';
import { ensurePrivateDir } from '../private-state.js';
import type { TrustStore } from '../crypto/index.js';
import type { HttpClient } from '../repo/index.js';
import type { Candidate } from './resolver/types.js';
import type { AgentRuntime } from './runtime.js';
import { isSafeFilename, memberUrl, servingUrls } from './update/index.js';
import { assertFreeSpace, freeBytes } from './install/rights.js';
import { hashFile, verifyPackage, field, PackageZip, type VerifiedPackage } from '../package/index.js';

export interface Expected {
  package?: string;
  version?: string;
  size?: number;
  sha256?: string;
  md5sum?: string;
}

export interface FetchPackageOptions {
  /** The package's URL: http(s) with `client`, or file: (a directory repository / bundle). */
  url: string;
  client?: HttpClient;
  dest: string;
  expected: Expected;
  trust: TrustStore;
  now?: Date;
  onProgress?: (done: number, total: number | null) => void;
  onWarning?: (msg: string) => void;
  /** Return the verified handle open (CachedPackage.zip): the installer extracts from it and closes it. */
  keepOpen?: boolean;
}

export interface CachedPackage {
  path: string;
  status: 'downloaded' | 'cached';
  /** Bytes already present from an interrupted download (0: fresh). */
  resumedFrom: number;
  size: number;
  verified: VerifiedPackage;
  /** With keepOpen: the handle whose bytes were verified (issue 8 §5: extract these, never the path again). */
  zip?: PackageZip;
}

function badDigest(file: string, why: string): WaptError {
  return new WaptError('ERR_BAD_DIGEST', `${file}: ${why}`, { detail: { file, reason: why } });
}

/** Size and digest as the index states them (sha256 when the index has it, else md5). */
async function checkDigests(path: string, file: string, exp: Expected): Promise<number> {
  const { size } = await stat(path);
  if (exp.size !== undefined && size !== exp.size) throw badDigest(file, `size ${size}, the index says ${exp.size}`);
  const algos = [...(exp.sha256 ? (['sha256'] as const) : []), ...(exp.md5sum ? (['md5'] as const) : [])];
  if (algos.length > 0) {
    const got = await hashFile(path, [...algos]);
    if (exp.sha256 && got.sha256 !== exp.sha256.toLowerCase()) throw badDigest(file, `sha256 ${got.sha256}, the index says ${exp.sha256}`);
    if (exp.md5sum && got.md5 !== exp.md5sum.toLowerCase()) throw badDigest(file, `md5 ${got.md5}, the index says ${exp.md5sum}`);
  }
  return size;
}

/** Full package verification plus: the file is the package the index entry described. */
async function verifyAgainst(path: string, file: string, o: FetchPackageOptions): Promise<{ verified: VerifiedPackage; zip?: PackageZip }> {
  const zip = o.keepOpen ? await PackageZip.open(path) : undefined;
  try {
    const v = await verifyPackage(path, { trust: o.trust, at: o.now, zip });
    const { package: pkg, version } = o.expected;
    if ((pkg !== undefined && v.package !== pkg) || (version !== undefined && v.version !== version)) {
      throw badDigest(file, `holds ${v.package} ${v.version}, the index entry is ${pkg} ${version}`);
    }
    return { verified: v, zip };
  } catch (err) {
    zip?.close();
    throw err;
  }
}

async function discardOnFailure<T>(paths: string[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    await Promise.all(paths.map((p) => rm(p, { force: true })));
    throw asWaptError(err);
  }
}

/** ERR_OUT_OF_SPACE naming the cache directory unless what is left to download fits (size from the index). */
async function assertRoomFor(dest: string, size: number | undefined): Promise<void> {
  if (size === undefined) return;
  const have = (await stat(`${dest}.part`).catch(() => null))?.size ?? 0;
  await assertFreeSpace(dirname(dest), Math.max(0, size - have), `downloading ${basename(dest)}`);
}

/**
 * Why a `.part` in the cache can never become `expectedSize` bytes (already that long or
 * longer, or the rest does not fit in the free space), or null if it may still complete.
 */
export async function partDeadEnd(partFile: string, expectedSize: number | null): Promise<string | null> {
  if (expectedSize === null) return null;
  const size = (await stat(partFile).catch(() => null))?.size;
  if (size === undefined) return null;
  if (size >= expectedSize) return `${size} bytes, the index says ${expectedSize}: it cannot complete`;
  const free = await freeBytes(dirname(partFile));
  if (free !== null && expectedSize - size > free) return `${expectedSize - size} bytes left to download, only ${free} free in ${dirname(partFile)}`;
  return null;
}

/** Reuses a cached file that still checks out; otherwise downloads (resuming a `.part`) and verifies. */
export async function fetchVerifiedPackage(o: FetchPackageOptions): Promise<CachedPackage> {
  const file = basename(o.dest);
  const present = (await stat(o.dest).catch(() => null))?.isFile() === true;
  if (present) {
    try {
      const size = await checkDigests(o.dest, file, o.expected);
      const { verified, zip } = await verifyAgainst(o.dest, file, o);
      return { path: o.dest, status: 'cached', resumedFrom: 0, size, verified, zip };
    } catch (err) {
      // Stale or damaged: it never runs. Say so, delete it and fetch a fresh copy.
      const e = asWaptError(err);
      o.onWarning?.(`cached ${file} failed verification ([${e.code}] ${e.message}): deleted, downloading again`);
      await rm(o.dest, { force: true });
    }
  }
  await ensurePrivateDir(join(o.dest, '..'), { onWarning: o.onWarning });
  await assertRoomFor(o.dest, o.expected.size);
  let resumedFrom = 0;
  if (o.url.startsWith('file:')) {
    const tmp = `${o.dest}.part`;
    await rm(tmp, { force: true });
    // COPYFILE_EXCL: a fresh file, never written through whatever sits at that name.
    await discardOnFailure([tmp], () => copyFile(fileURLToPath(o.url), tmp, fsConstants.COPYFILE_EXCL));
    await discardOnFailure([tmp], () => checkDigests(tmp, file, o.expected));
    await rename(tmp, o.dest);
  } else {
    if (!o.client) throw new WaptError('INTERNAL', `no HTTP client for ${o.url}`);
    const res = await o.client.fetchToFile(o.url, o.dest, {
      resume: true,
      expectedSha256: o.expected.sha256,
      expectedSize: o.expected.size,
      onProgress: o.onProgress,
    });
    resumedFrom = res.resumedFrom;
  }
  return discardOnFailure([o.dest], async () => {
    // fetchToFile checked sha256 while streaming; an index without sha256 leaves md5 (W-F1).
    const size = await checkDigests(o.dest, file, { size: o.expected.size, ...(o.expected.sha256 ? {} : { md5sum: o.expected.md5sum }) });
    const { verified, zip } = await verifyAgainst(o.dest, file, o);
    return { path: o.dest, status: 'downloaded' as const, resumedFrom, size, verified, zip };
  });
}

/** The base URL of the repository a candidate came from: the config, or a stored bundle directory. */
export function repoBaseUrl(rt: AgentRuntime, repo: string): { url: string; client?: HttpClient } {
  const cfg = rt.config.repos.find((r) => r.name === repo) ?? (rt.config.hostRepo?.name === repo ? rt.config.hostRepo : undefined);
  const stored = rt.db.repos.get(repo);
  if (cfg) {
    // repo_rules: packages come from the URL whose index was accepted (a site mirror), if it is still a candidate
    const url = stored && servingUrls(cfg).includes(stored.url) ? stored.url : cfg.url;
    return url.startsWith('file:') ? { url } : { url, client: rt.http(cfg) };
  }
  if (stored?.url.startsWith('file:')) return { url: stored.url };
  throw new WaptError('CONFIG_INVALID', `repository ${repo} is no longer configured; run \`wapt-get update\``, { detail: { repo } });
}

export function cachePath(rt: AgentRuntime, filename: string): string {
  if (!isSafeFilename(filename)) throw new WaptError('INDEX_INVALID', `index filename ${JSON.stringify(filename)} is not a plain *.wapt name`);
  return join(rt.config.cacheDir, filename);
}

/** Download one chosen candidate into the cache, verified (W-F3 digest, then W-D3..W-D5). */
export async function downloadCandidate(
  rt: AgentRuntime,
  c: Candidate,
  now = new Date(),
  onProgress?: (done: number, total: number | null) => void,
  opts: { keepOpen?: boolean } = {},
): Promise<CachedPackage> {
  const base = repoBaseUrl(rt, c.repo);
  return fetchVerifiedPackage({
    url: memberUrl(base.url, c.filename),
    client: base.client,
    dest: cachePath(rt, c.filename),
    expected: {
      package: field(c.control, 'package'),
      version: field(c.control, 'version'),
      size: c.size,
      sha256: c.sha256,
      md5sum: c.md5sum,
    },
    trust: rt.trust,
    now,
    onProgress,
    onWarning: (m) => rt.log.warn(m),
    keepOpen: opts.keepOpen,
  });
}
