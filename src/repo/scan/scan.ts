// scanpackages (W-F2): build `Packages` from the *.wapt files of a directory,
// reusing what did not change (same size, mtime and inode) from the scan cache,
// optionally keeping only entries whose control signature verifies, and
// optionally adding our signed index statement (X2).
import type { KeyObject, X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { WaptError, asWaptError } from '../../errors.js';
import { TrustPolicy, type TrustStore } from '../../crypto/index.js';
import { parseControl } from '../../package/index.js';
import { verifyControlSignature } from '../../package/index.js';
import { checkCodeSigningRule } from '../../package/index.js';
import { writePackagesZipBytes } from '../index-file/packages-zip.js';
import { nextStatementVersion, REPOSITORY_NAME, sha256Hex } from '../statement/create.js';
import { loadScanCache, saveScanCache, writeScanBlob, writeScanJson, type CachedPackage, type ScanCache } from './cache.js';
import { listPackageFiles } from './files.js';
import { compareIndexEntries } from './order.js';
import { readPackages, workerCount } from './pool.js';
import type { BatchItem, FreshRead } from './read-batch.js';
import { CertificateMemo } from './read-package.js';
import { previousStatementVersion } from './previous.js';

export const PACKAGES_FILE = 'Packages';

export interface ScanSigning {
  key: KeyObject;
  cert: X509Certificate;
  expiresInMs: number;
  /** Name written in the statement; default: the directory's base name. */
  repository?: string;
  /** Ignore the version of the statement already in Packages (docs/index-statement.md "Resetting the version"). */
  resetVersion?: boolean;
}

/** Before any work: the key must be one the trust policy allows for index statements, the name one clients can pin. */
function checkSigning(dir: string, sign: ScanSigning): string {
  const refused = TrustPolicy.refusal('index-statement', sign.cert, { source: 'scanpackages --sign' });
  if (refused) throw refused;
  const repository = sign.repository ?? basename(resolve(dir));
  if (!REPOSITORY_NAME.test(repository)) {
    throw new WaptError(
      'USAGE',
      `repository name ${JSON.stringify(repository)} (from the directory name): give one with --repository NAME (letters, digits, . _ -)`,
    );
  }
  return repository;
}

export interface ScanOptions {
  /** When given, each control signature (W-E3) and the code-signing rule (W-D5) are checked; failures are left out. */
  trust?: TrustStore;
  /** The first failure is thrown instead of being skipped with a warning. */
  strict?: boolean;
  /** Read and check everything, write nothing (scanpackages --dry-run). */
  dryRun?: boolean;
  sign?: ScanSigning;
  onWarning?: (msg: string) => void;
  now?: Date;
  /**
   * Worker threads that read, hash and signature-check new packages besides this
   * thread (pool.ts). 0: all in this thread. Default: availableParallelism() - 1
   * (at least 1) when at least WORKER_MIN_PACKAGES packages are new and the
   * compiled worker.js is present (not under ts-jest); else 0.
   */
  workers?: number;
}

export interface ScanSkip {
  file: string;
  reason: string;
  code: string;
}

export interface ScanResult {
  indexed: number;
  skipped: ScanSkip[];
  reusedFromCache: number;
  hashed: number;
  /** Control signatures checked by this scan (W-E3): those of new or changed files, and of entries cached without a trust store. */
  signaturesChecked: number;
  path: string;
  /** False when the index was already up to date (unsigned scans only): clients see no new Last-Modified. */
  written: boolean;
  statementVersion: number | null;
}

function withFile(err: WaptError, file: string): WaptError {
  if (err.message.startsWith(`${file}:`)) return err;
  return new WaptError(err.code, `${file}: ${err.message}`, { cause: err.cause ?? err, detail: { ...err.detail, file } });
}

function sameStat(a: { size: number; mtimeMs: number; ino: number }, b: { size: number; mtimeMs: number; ino: number }): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

const SEPARATOR = Buffer.from('\n\n');
const FINAL_NEWLINE = Buffer.from('\n');

/** W-F1 text from ready blocks: joined by one empty line, ending with a single "\n". */
function joinBlocks(blocks: readonly Buffer[]): Buffer {
  if (blocks.length === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const b of blocks) parts.push(b, SEPARATOR);
  parts[parts.length - 1] = FINAL_NEWLINE;
  return Buffer.concat(parts);
}

export async function scanPackages(dir: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const now = opts.now ?? new Date();
  const warn = (m: string) => opts.onWarning?.(m);
  const indexPath = join(dir, PACKAGES_FILE);
  // X2, issue 8: refuse a disallowed key or an unverifiable previous version before writing anything.
  const repository = opts.sign && checkSigning(dir, opts.sign);
  const previousVersion = opts.sign
    ? await previousStatementVersion(indexPath, { signer: opts.sign.cert, trust: opts.trust, resetVersion: opts.sign.resetVersion ?? false, now, warn })
    : null;
  const cache = await loadScanCache(dir, warn);
  const memo = new CertificateMemo();
  const skipped: ScanSkip[] = [];
  const fail = (file: string, err: unknown): void => {
    const e = withFile(asWaptError(err), file);
    if (opts.strict) throw e;
    skipped.push({ file, reason: e.message, code: e.code });
    warn(`skipped ${e.message}`);
  };

  // 1. Reuse unchanged files, read the others (W-F2).
  const next = new Map<string, CachedPackage>();
  const fresh = new Map<string, FreshRead>();
  const toRead: BatchItem[] = [];
  let reusedFromCache = 0;
  for (const f of await listPackageFiles(dir, (name) => cache.entries.has(name))) {
    if ('error' in f) {
      fail(f.name, f.error);
    } else if (/[\x00-\x1f\x7f]/.test(f.name)) {
      // A line break in `filename` would split the index entry.
      fail(f.name, new WaptError('INDEX_INVALID', 'the file name contains control characters; rename it'));
    } else {
      const cached = cache.entries.get(f.name);
      if (cached && f.st && sameStat(cached, f.st)) {
        next.set(f.name, cached);
        reusedFromCache++;
      } else {
        toRead.push({ name: f.name, stamp: f.st && { size: f.st.size, mtimeMs: f.st.mtimeMs, ino: f.st.ino } });
      }
    }
  }
  const { reads, pems } = await readPackages(dir, toRead, {
    workers: workerCount(opts.workers, toRead.length),
    checkSignatures: opts.trust !== undefined,
    memo,
    onWarning: warn,
  });
  // Certificates by fingerprint: the cache's, then those met in this scan (memo.pems holds this thread's).
  const knownPems = new Map([...cache.certs, ...pems]);
  for (const r of reads) {
    if ('error' in r) {
      fail(r.name, r.error);
    } else {
      fresh.set(r.name, r);
      next.set(r.name, r.entry);
    }
  }
  let dirty = fresh.size > 0 || next.size !== cache.entries.size;
  let signaturesChecked = opts.trust ? reads.filter((r) => !('error' in r)).length : 0;

  // 2. Select: no host packages (W-F4), and with a trust store only verified entries (W-F2, W-E3, W-D5).
  const chainVerdicts = new Map<string, unknown>();
  const certOf = (fp: string): X509Certificate => {
    const c = memo.get(fp, knownPems);
    if (!c) throw new WaptError('SIGNER_UNTRUSTED', `certificate ${fp.slice(0, 16)}… is missing from the scan cache`);
    return c;
  };
  /** The signer's chain to the trust store (X4), once per signer and certificate bundle. */
  const checkChain = (signerFp: string, certs: readonly string[]): X509Certificate => {
    const key = `${signerFp}|${certs.join(',')}`;
    if (!chainVerdicts.has(key)) {
      try {
        opts.trust!.verifyChain(certOf(signerFp), certs.filter((fp) => fp !== signerFp).map(certOf), { at: now });
        chainVerdicts.set(key, null);
      } catch (err) {
        chainVerdicts.set(key, err);
      }
    }
    const verdict = chainVerdicts.get(key);
    if (verdict) throw verdict;
    return certOf(signerFp);
  };
  const verify = (name: string, e: CachedPackage): void => {
    if (e.verified !== null && e.certs.includes(e.verified)) {
      // Unchanged file whose signature verified before: only the chain can have changed (dates, CRLs, trust dir).
      checkChain(e.verified, e.certs);
      return;
    }
    const read = fresh.get(name);
    if (read) {
      // Read in this scan: its signature was checked then (W-E3, X4, signature.ts); the chain, then W-D5, here.
      if (read.signatureError) throw read.signatureError;
      checkCodeSigningRule(e.setupKind, checkChain(read.signedBy!, e.certs), name);
      e.verified = read.signedBy;
    } else {
      // A cache entry from a scan without a trust store.
      const fields = parseControl(e.block.toString('utf8'), { source: name });
      signaturesChecked++;
      const v = verifyControlSignature(fields, { certificates: e.certs.map(certOf), trust: opts.trust!, at: now });
      checkCodeSigningRule(e.setupKind, v.signer, name);
      e.verified = v.fingerprint;
    }
    dirty = true;
  };
  const included: { filename: string; package: string; version: string; signatureDate: string; e: CachedPackage }[] = [];
  for (const name of [...next.keys()].sort()) {
    const e = next.get(name)!;
    if (e.section === 'host') {
      skipped.push({ file: name, reason: `${name}: host package (W-F4): it belongs in the -host repository, not in Packages`, code: 'HOST_PACKAGE' });
      warn(`skipped ${name}: host package, not indexed (W-F4)`);
      continue;
    }
    if (opts.trust) {
      try {
        verify(name, e);
      } catch (err) {
        fail(name, err);
        continue;
      }
    }
    included.push({ filename: name, package: e.package, version: e.version, signatureDate: e.signatureDate, e });
  }
  included.sort(compareIndexEntries);
  skipped.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

  // 3. The index text and its certificates (W-F1).
  const packagesBytes = joinBlocks(included.map((i) => i.e.block));
  const certFps = new Set(included.flatMap((i) => i.e.certs));
  const result = { indexed: included.length, skipped, reusedFromCache, hashed: fresh.size, signaturesChecked, path: indexPath };
  const updated: ScanCache = { ...cache, entries: next, certs: new Map() };
  for (const e of next.values()) {
    for (const fp of e.certs) updated.certs.set(fp, memo.pems.get(fp) ?? knownPems.get(fp)!);
  }

  // 4. Write, unless an unsigned index is already exactly this one (keeps Last-Modified, W-F3).
  const packagesSha256 = sha256Hex(packagesBytes);
  // --dry-run: every package was read and checked as for real; nothing (index, cache) is written.
  if (opts.dryRun) return { ...result, written: false, statementVersion: opts.sign ? nextStatementVersion(previousVersion, now) : null };
  const current = await stat(indexPath).catch(() => null);
  if (!opts.sign && current && cache.index && sameStat(cache.index, current) && cache.index.packagesSha256 === packagesSha256) {
    if (dirty) await saveScanCache(dir, updated);
    return { ...result, written: false, statementVersion: null };
  }
  const writeIndex = async () => {
    return writePackagesZipBytes(indexPath, {
      packagesBytes,
      packagesSha256,
      certificates: [...certFps].sort().map(certOf),
      now,
      statement: opts.sign && {
        key: opts.sign.key,
        cert: opts.sign.cert,
        expiresInMs: opts.sign.expiresInMs,
        previousVersion,
        repository: repository as string,
      },
    });
  };
  // The cache's blob is written while the index is compressed and written; its JSON, which points into it, comes after.
  const blob = writeScanBlob(dir, updated);
  let written: Awaited<ReturnType<typeof writeIndex>>;
  try {
    written = await writeIndex();
  } catch (err) {
    await blob.catch(() => undefined);
    throw err;
  }
  const compacted = await blob;
  const st = await stat(indexPath);
  updated.index = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, packagesSha256 };
  updated.lastStatementVersion = written.statement?.version ?? cache.lastStatementVersion;
  await writeScanJson(dir, updated, compacted);
  return { ...result, written: true, statementVersion: written.statement?.version ?? null };
}
