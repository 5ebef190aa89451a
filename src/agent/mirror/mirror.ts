// `wapt-get mirror URL DIR`: a branch-office copy of a repository. The index and every
// package pass the checks `update` and `install` apply (verifyIndexStatement/verifyIndex,
// fetchVerifiedPackage: one trust policy), then the directory switches so that a client
// reading it mid-run sees the old repository or the new one, never a mix:
//   1. verified packages with new names are renamed in (the old Packages does not list them);
//   2. the origin's Packages, byte for byte (its statement included), replaces ours: one rename;
//   3. only then files the new index no longer lists are removed.
// A package whose name stays but whose bytes change (a re-signed package) is renamed in just
// after step 2; a reader between those two renames gets ERR_BAD_DIGEST and tries again.
// The mirror holds no key: clients verify the origin's signers end to end.
import { chmod, lstat, mkdir, rename, rm, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WaptError, asWaptError } from '../../errors.js';
import type { RepositorySigners, TrustStore } from '../../crypto/index.js';
import { parseStatement, readPackagesZip, PACKAGES_MAX_BYTES, type HttpClient, type IndexStatement, type VerifiedStatement } from '../../repo/index.js';
import { ensurePrivateDir } from '../../private-state.js';
import { fetchVerifiedPackage } from '../cache.js';
import { acquireLock } from '../lock.js';
import type { AgentLog } from '../runtime.js';
import { memberUrl } from '../update/source.js';
import { verifyIndex, verifyIndexStatement, type RejectedEntry, type VerifyIndexOptions } from '../update/verify-index.js';
import { planMirror, wantedFiles, type WantedFile } from './plan.js';
import { MIRROR_LOCK_FILE, MIRROR_WORK_DIR, raiseTrust, readMirrorState, writeMirrorState, type FileMark, type MirrorState } from './state.js';

export interface MirrorOptions {
  url: string;
  dir: string;
  client: HttpClient;
  trust: TrustStore;
  /** The origin's pins (index_signer …) from its ini section, as `update` uses them. */
  signers: RepositorySigners;
  /** repository_id of the origin's section; null: the identity this directory first accepted. */
  repositoryId: string | null;
  allowUnsigned: boolean;
  dryRun: boolean;
  lockTimeoutMs: number;
  /** Packages fetched at once (max_parallel_downloads). */
  parallel: number;
  log: AgentLog;
  now?: Date;
}

export interface MirrorReport {
  origin: string;
  dir: string;
  dry_run: boolean;
  /** The new Packages is in place (false: dry run, or nothing changed). */
  published: boolean;
  repository: string | null;
  index_version: number | null;
  index_created: string | null;
  index_expires: string | null;
  downloaded: string[];
  kept: number;
  removed: string[];
  /** Bytes fetched for packages this run (resumed parts count only the rest). */
  bytes: number;
  rejected_entries: RejectedEntry[];
}

function claimedIdentity(statement: IndexStatement | null): string | null {
  if (!statement) return null;
  try {
    return parseStatement(statement.bytes).repository;
  } catch {
    return null; // verifyStatement names what is wrong with it
  }
}

/** X2 + W-F3 with the mirror's state in place of the DB's: the same functions `update` calls. */
async function verifyOriginIndex(path: string, o: MirrorOptions, state: MirrorState, now: Date) {
  let checked: VerifiedStatement | null = null;
  let opts: VerifyIndexOptions | undefined;
  let refusal: unknown;
  let index;
  try {
    index = await readPackagesZip(path, {
      onWarning: (m) => o.log.warn(m),
      checkHead: (head) => {
        const expected = o.repositoryId ?? state.repository;
        const identity = expected ?? claimedIdentity(head.statement);
        const mark = identity === null ? undefined : state.trust[identity];
        opts = {
          trust: o.trust,
          // a mirror demands a signed index unless allow_unsigned_index says otherwise
          previous: { index_signed: true, index_version: mark?.version ?? null } as VerifyIndexOptions['previous'],
          allowUnsigned: o.allowUnsigned,
          context: {
            expectedRepository: expected,
            signers: o.signers,
            lastSeenVersion: mark?.version ?? null,
            lastSeenPackagesSha256: mark?.packages_sha256 ?? null,
            lastSeenStatementVersion: mark?.statement_version ?? null,
            lastSeenStatementPackagesSha256: mark?.statement_packages_sha256 ?? null,
          },
          now,
        };
        try {
          checked = verifyIndexStatement(head, opts);
        } catch (err) {
          refusal = err;
          throw err;
        }
      },
    });
  } catch (err) {
    const e = asWaptError(err);
    if (err === refusal || e.code === 'INDEX_INVALID' || e.code === 'IO_ERROR') throw e;
    throw new WaptError('INDEX_INVALID', `${o.url}: the Packages zip is damaged: ${e.message}`, { cause: err });
  }
  return verifyIndex(index, opts!, checked);
}

async function publishFile(from: string, to: string): Promise<void> {
  await chmod(from, 0o644); // served to every client of the branch office
  await rename(from, to);
}

/**
 * Downloads (resuming) and verifies each package into the work dir, `parallel` at a time
 * (max_parallel_downloads; the client's rate cap is shared); every failure is kept, none stops the others.
 */
async function fetchAll(o: MirrorOptions, work: string, files: WantedFile[], now: Date): Promise<{ bytes: number; failures: WaptError[] }> {
  let bytes = 0;
  const failures: WaptError[] = [];
  const one = async (w: WantedFile): Promise<void> => {
    try {
      const got = await fetchVerifiedPackage({
        url: memberUrl(o.url, w.filename),
        client: o.client,
        dest: join(work, w.filename),
        expected: { package: w.package, version: w.version, size: w.size ?? undefined, sha256: w.sha256 ?? undefined, md5sum: w.md5sum ?? undefined },
        trust: o.trust,
        now,
        onWarning: (m) => o.log.warn(m),
      });
      if (got.status === 'downloaded') bytes += got.size - got.resumedFrom;
      o.log.info(`${w.filename}: ${got.status === 'cached' ? 'verified (fetched by an earlier run)' : 'downloaded and verified'}`);
    } catch (err) {
      const e = asWaptError(err);
      o.log.warn(`${w.filename}: [${e.code}] ${e.message}`);
      failures.push(e);
    }
  };
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(o.parallel, files.length)) }, async () => {
    while (next < files.length) await one(files[next++]!);
  });
  await Promise.all(lanes);
  return { bytes, failures };
}

export async function runMirror(o: MirrorOptions): Promise<MirrorReport> {
  const now = o.now ?? new Date();
  await mkdir(o.dir, { recursive: true });
  const lock = await acquireLock(join(o.dir, MIRROR_LOCK_FILE), {
    timeoutMs: o.lockTimeoutMs,
    command: `wapt-get mirror ${o.url}`,
    onWait: (h) => o.log.info(`waiting for another mirror run (pid ${h.pid}, since ${h.startedAt})…`),
    onWarning: (m) => o.log.warn(m),
  });
  try {
    const work = join(o.dir, MIRROR_WORK_DIR);
    await ensurePrivateDir(work, { onWarning: (m) => o.log.warn(m) });
    const state = await readMirrorState(o.dir);
    const indexTmp = join(work, 'Packages');
    await o.client.fetchToFile(memberUrl(o.url, 'Packages'), indexTmp, { resume: true, maxBytes: PACKAGES_MAX_BYTES });
    const verified = await verifyOriginIndex(indexTmp, o, state, now);
    const st = verified.statement;
    // rejected entries are left out here as clients leave them out; their files are not fetched
    const wanted = wantedFiles(verified.accepted);
    const plan = await planMirror(o.dir, wanted, state);
    const report: MirrorReport = {
      origin: o.url,
      dir: o.dir,
      dry_run: o.dryRun,
      published: false,
      repository: st?.repository ?? null,
      index_version: st?.version ?? null,
      index_created: st?.created.toISOString() ?? null,
      index_expires: st?.expires.toISOString() ?? null,
      downloaded: plan.download.map((w) => w.filename),
      kept: plan.keep.length,
      removed: plan.remove,
      bytes: 0,
      rejected_entries: verified.rejected,
    };
    if (o.dryRun) return report;

    const { bytes, failures } = await fetchAll(o, work, plan.download, now);
    report.bytes = bytes;
    if (failures.length > 0) {
      const first = failures[0]!;
      // nothing of the new index is published: clients keep the previous repository
      throw new WaptError(first.code, `${failures.length} package(s) of ${o.url} failed, the mirror keeps its previous Packages: ${first.message}`, {
        cause: first,
        detail: { ...first.detail, failed: failures.length },
      });
    }
    const present = new Set(await readdir(o.dir));
    const replaced = plan.download.filter((w) => present.has(w.filename));
    for (const w of plan.download) if (!present.has(w.filename)) await publishFile(join(work, w.filename), join(o.dir, w.filename));
    // X2: the mark rises before what it describes is served (checked first, stored second)
    if (st) raiseTrust(state, st);
    await writeMirrorState(o.dir, state);
    await publishFile(indexTmp, join(o.dir, 'Packages'));
    report.published = true;
    for (const w of replaced) await publishFile(join(work, w.filename), join(o.dir, w.filename));
    for (const name of plan.remove) await rm(join(o.dir, name), { force: true });
    state.files = { ...plan.marks, ...(await marksOf(o.dir, plan.download)) };
    await writeMirrorState(o.dir, state);
    await sweepWork(work);
    return report;
  } finally {
    await lock.release();
  }
}

/** Digests of the files just renamed in (verified against these very entries), so the next run need not hash them. */
async function marksOf(dir: string, files: WantedFile[]): Promise<Record<string, FileMark>> {
  const marks: Record<string, FileMark> = {};
  for (const w of files) {
    const st = await lstat(join(dir, w.filename)).catch(() => null);
    if (st?.isFile() && w.sha256 !== null) marks[w.filename] = { size: st.size, mtime_ms: st.mtimeMs, ino: st.ino, sha256: w.sha256 };
  }
  return marks;
}

/** After a published run nothing in the work dir is needed (parts of dropped packages included). */
async function sweepWork(work: string): Promise<void> {
  for (const name of await readdir(work)) await rm(join(work, name), { force: true, recursive: true });
}
