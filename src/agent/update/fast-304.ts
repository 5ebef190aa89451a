// The warm `update` (issue 12 §2): when the last full update left nothing to learn but
// "still the same", a run answers from a small side file (<dbdir>/update-304.json) and
// one conditional GET per repository made with node:https, without loading undici or
// sql.js. Sound because a 304 changes nothing in the DB (repo.ts notModified): the
// summary of the last run is a function of the two DB files, the ini and the clock, so
// it is reused only while all of these stand still: the ini bytes and both files'
// identity (inode, size, mtime) match, the statement has not expired, the file is at
// most an hour old, and every server answers 304 again. Anything else (a 200, an error,
// a proxy, repo_rules, a host package, verify_cert=0) takes the full path, which writes
// the file anew or removes it.
import { createHash } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../../atomic-file.js';
import { probeNotModified } from '../../repo/index.js';
import type { WaptConfig } from '../config.js';
import { indexPathOf } from '../db/open.js';
import type { WaptDb } from '../db/index.js';
import { acquireLock } from '../lock.js';
import { httpOptionsForRepo, type AgentLog } from '../runtime.js';
import type { UpdateSummary } from './index.js';

export const FAST_304_FILE = 'update-304.json';
const MAX_AGE_MS = 60 * 60 * 1000;

interface Probe {
  repo: string;
  url: string;
  etag: string | null;
  last_modified: string | null;
}

interface SideFile {
  v: 1;
  ini_sha256: string;
  files: string[];
  written_at: string;
  /** Earliest index_expires of the repositories (null: no statement expires). */
  expires: string | null;
  probes: Probe[];
  summary: UpdateSummary;
}

const sideFilePath = (cfg: WaptConfig) => join(cfg.dbdir, FAST_304_FILE);

async function iniSha256(cfg: WaptConfig): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(cfg.configPath).catch(() => Buffer.alloc(0)))
    .digest('hex');
}

/** inode, size and mtime of both DB files: any write replaces a file, so changes all three. */
async function identities(cfg: WaptConfig): Promise<string[]> {
  return Promise.all(
    [cfg.dbPath, indexPathOf(cfg.dbPath)].map(async (p) => {
      const s = await fs.stat(p, { bigint: true }).catch(() => null);
      return s ? `${s.ino}:${s.size}:${s.mtimeNs}` : 'absent';
    }),
  );
}

/** Which configurations the side file may stand for at all. */
function eligible(cfg: WaptConfig, env: NodeJS.ProcessEnv, log: AgentLog): boolean {
  if (cfg.hostRepo || cfg.repos.length === 0) return false;
  return cfg.repos.every((r) => {
    if (!r.url.startsWith('https:') || (r.rules ?? []).length > 0) return false;
    const o = httpOptionsForRepo(cfg, r, env, log);
    return !o.proxy && o.verifyCert.kind !== 'off';
  });
}

/**
 * After a full update, before the DB closes: what to do with the side file once the DB
 * files are final (run under the lock, AgentRuntime.close): keep what a repeat could be
 * answered with, or remove it when this run cannot be repeated that way (summary null:
 * the run failed).
 */
export function planFast304(cfg: WaptConfig, db: WaptDb, summary: UpdateSummary | null, env: NodeJS.ProcessEnv, log: AgentLog): () => Promise<void> {
  const file = sideFilePath(cfg);
  const remove = async () => void (await fs.rm(file, { force: true }));
  if (!summary || summary.failed > 0 || summary.repos.length !== cfg.repos.length || !eligible(cfg, env, log)) return remove;
  const probes: Probe[] = [];
  for (const r of cfg.repos) {
    const row = db.repos.get(r.name);
    if (!row || row.url !== r.url || (!row.etag && !row.last_modified)) return remove;
    probes.push({ repo: r.name, url: `${r.url.replace(/\/+$/, '')}/Packages`, etag: row.etag, last_modified: row.last_modified });
  }
  const expiries = summary.repos.map((r) => r.index_expires).filter((e): e is string => e !== null);
  return async () => {
    const side: SideFile = {
      v: 1,
      ini_sha256: await iniSha256(cfg),
      files: await identities(cfg),
      written_at: new Date().toISOString(),
      expires: expiries.length ? expiries.reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b)) : null,
      probes,
      summary,
    };
    await atomicWriteFile(file, JSON.stringify(side), { mode: 0o600 });
  };
}

async function readSideFile(cfg: WaptConfig): Promise<SideFile | null> {
  let fh;
  try {
    fh = await fs.open(sideFilePath(cfg), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null; // absent, or a link planted in its place: not ours
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > 4 * 1024 * 1024) return null;
    const v = JSON.parse(await fh.readFile('utf8')) as SideFile;
    const shaped = v && v.v === 1 && Array.isArray(v.files) && Array.isArray(v.probes) && v.summary && Array.isArray(v.summary.repos);
    return shaped ? v : null;
  } catch {
    return null; // corrupt: the full path rewrites it
  } finally {
    await fh.close();
  }
}

/**
 * The summary a full update would print now, or null (take the full path). Holds the run
 * lock while it decides, as the full path would.
 */
export async function tryFast304(cfg: WaptConfig, env: NodeJS.ProcessEnv, log: AgentLog, now = new Date()): Promise<UpdateSummary | null> {
  const side = await readSideFile(cfg);
  if (!side || !eligible(cfg, env, log)) return null;
  const age = now.getTime() - Date.parse(side.written_at);
  if (!(age >= 0 && age <= MAX_AGE_MS)) return null;
  if (side.expires !== null && !(Date.parse(side.expires) > now.getTime())) return null;
  if (side.probes.length !== cfg.repos.length || side.probes.some((p, i) => p.repo !== cfg.repos[i]!.name)) return null;
  if (side.ini_sha256 !== (await iniSha256(cfg))) return null;
  const lock = await acquireLock(cfg.lockPath, {
    timeoutMs: cfg.lockTimeoutMs,
    onWait: (h) => log.info(`waiting for another wapt-get (pid ${h.pid}, ${h.command}, since ${h.startedAt})…`),
    onWarning: (m) => log.warn(m),
  });
  try {
    const files = await identities(cfg);
    if (files.join('\n') !== side.files.join('\n')) return null;
    const answers = await Promise.all(
      side.probes.map((p, i) => probeNotModified(p.url, { etag: p.etag, lastModified: p.last_modified }, httpOptionsForRepo(cfg, cfg.repos[i]!, env, log))),
    );
    if (answers.some((a) => a !== 'not-modified')) return null;
    // what notModified() reports per repository, from what the last run stored
    const repos = side.summary.repos.map((r) => ({
      repo: r.repo,
      url: r.url,
      status: 'not-modified' as const,
      packages: r.packages,
      rejected: r.rejected,
      rejected_entries: [],
      signed: r.signed,
      index_version: r.index_version,
      index_expires: r.index_expires,
      index_created: r.index_created ?? null,
    }));
    return { ...side.summary, repos };
  } finally {
    await lock.release();
  }
}
