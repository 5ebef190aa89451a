// One wapt-get run at a time. The lock is a file created with O_EXCL holding who took
// it; a lock whose holder is gone is taken over, under a short-lived "break" lock so
// that two waiters can never both decide to replace it.
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WaptError } from '../errors.js';

export interface LockHolder {
  pid: number;
  startedAt: string;
  hostname: string;
  command: string;
  /** Random per acquisition: the pid alone cannot tell two acquirers in one process apart. */
  token: string;
}

export interface LockOptions {
  /** Give up with LOCK_BUSY after this long; 0 tries once. */
  timeoutMs: number;
  /** Called once, when we start waiting for a live holder. */
  onWait?: (holder: LockHolder) => void;
  /** Called when a stale lock is taken over. */
  onWarning?: (message: string) => void;
  /** A live holder that is not a node process is treated as a reused pid after this long (default 6 h). */
  staleAfterMs?: number;
  /** Recorded in the lock for whoever waits on us; default `wapt-get <args>`. */
  command?: string;
}

export interface Lock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

const DEFAULT_STALE_MS = 6 * 3600_000;
/** A lock file still empty or half-written after this long was left by a crash mid-create. */
const UNREADABLE_GRACE_MS = 10_000;
/** A break lock older than this was left by a crash inside the takeover (which takes ms). */
const BREAK_STALE_MS = 30_000;

/** Whether a process with this pid exists on this machine (zombies count as gone). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): kill(0) is all we know
  }
}

/** Whether `pid` runs node or wapt-get; unknown (no /proc) counts as yes, so we never steal on a guess. */
export function looksLikeWaptGet(pid: number): boolean {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true;
  }
  const argv = cmdline.split('\0').filter(Boolean);
  return argv.some((a) => /(^|[/\\])(node|nodejs)(\.exe)?$/i.test(a) || a.includes('wapt-get'));
}

async function readHolder(file: string): Promise<{ holder?: LockHolder; raw?: string; ageMs: number } | undefined> {
  try {
    const [raw, st] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    const ageMs = Date.now() - st.mtimeMs;
    try {
      const h = JSON.parse(raw) as LockHolder;
      if (typeof h.pid === 'number' && typeof h.token === 'string') return { holder: h, raw, ageMs };
    } catch {
      /* fall through: unreadable */
    }
    return { raw, ageMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Why the current lock content may be replaced, or undefined if its holder must be honoured. */
function staleReason(seen: { holder?: LockHolder; ageMs: number }, staleAfterMs: number): string | undefined {
  const h = seen.holder;
  if (!h) return seen.ageMs > UNREADABLE_GRACE_MS ? 'the lock file is unreadable' : undefined;
  const age = Date.now() - Date.parse(h.startedAt);
  // The lock is a file on this machine's disk, so its holder is a process on this machine:
  // a recorded host name that differs means the machine was renamed, not another holder,
  // and a dead pid is dead whatever name it was recorded under.
  const renamed = h.hostname !== os.hostname() ? ` (recorded on host ${h.hostname}, now ${os.hostname()})` : '';
  if (!isPidAlive(h.pid)) return `its holder (pid ${h.pid}${renamed}) is no longer running`;
  if (h.pid !== process.pid && age > staleAfterMs && !looksLikeWaptGet(h.pid)) {
    return `pid ${h.pid} now belongs to another program (lock taken ${h.startedAt})`;
  }
  return undefined;
}

async function writeNew(file: string, holder: LockHolder, flag: 'wx' | 'w'): Promise<void> {
  const fh = await fs.open(file, flag, 0o600); // private state, like the DB beside it
  try {
    await fh.writeFile(JSON.stringify(holder) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Replaces the stale lock (content `raw`) by ours, if nobody else has meanwhile. */
async function takeOver(file: string, raw: string | undefined, holder: LockHolder): Promise<boolean> {
  const breakFile = `${file}.break`;
  try {
    await writeNew(breakFile, holder, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const seen = await readHolder(breakFile).catch(() => undefined);
    // a break lock whose writer is dead was left by a crash inside a takeover: drop it now,
    // not after BREAK_STALE_MS (an unreadable one still waits that long: it may be mid-write)
    const dead = seen?.holder !== undefined && seen.holder.pid !== process.pid && !isPidAlive(seen.holder.pid);
    if (seen && (dead || seen.ageMs > BREAK_STALE_MS)) await fs.rm(breakFile, { force: true });
    return false; // someone else is taking over; look again on the next poll
  }
  try {
    const now = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (now !== raw) return false; // changed (released or taken) since we judged it
    const tmp = `${file}.${holder.token}`;
    await writeNew(tmp, holder, 'wx');
    await fs.rename(tmp, file);
    const check = await readHolder(file);
    return check?.holder?.token === holder.token;
  } finally {
    await fs.rm(breakFile, { force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function acquireLock(file: string, opts: LockOptions): Promise<Lock> {
  const staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_MS;
  const holder: LockHolder = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    hostname: os.hostname(),
    command: opts.command ?? ['wapt-get', ...process.argv.slice(2)].join(' '),
    token: randomBytes(8).toString('hex'),
  };
  await fs.mkdir(path.dirname(file), { recursive: true });
  const deadline = Date.now() + opts.timeoutMs;
  let waitedFor: LockHolder | undefined;

  for (;;) {
    try {
      await writeNew(file, holder, 'wx');
      return ownLock(file, holder);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new WaptError('IO_ERROR', `cannot create lock ${file}: ${(err as Error).message}`, { cause: err });
      }
    }
    const seen = await readHolder(file);
    if (!seen) continue; // released between our create and our read
    const reason = staleReason(seen, staleAfterMs);
    if (reason !== undefined && (await takeOver(file, seen.raw, holder))) {
      opts.onWarning?.(`took over stale lock ${file}: ${reason}`);
      return ownLock(file, holder);
    }
    if (reason === undefined && seen.holder && !waitedFor) {
      waitedFor = seen.holder;
      opts.onWait?.(seen.holder);
    }
    if (Date.now() >= deadline) {
      const h = seen.holder ?? waitedFor;
      const who = h ? `pid ${h.pid} on ${h.hostname} ('${h.command}') since ${h.startedAt}` : 'an unreadable lock file';
      throw new WaptError('LOCK_BUSY', `another wapt-get holds ${file}: ${who}`, {
        detail: { path: file, pid: h?.pid, command: h?.command, started_at: h?.startedAt, hostname: h?.hostname },
      });
    }
    await sleep(Math.min(100 + Math.random() * 150, Math.max(0, deadline - Date.now())));
  }
}

function ownLock(file: string, holder: LockHolder): Lock {
  let released = false;
  // Best effort if the process ends without release(): only sync calls work in 'exit'.
  const onExit = () => {
    try {
      if (JSON.parse(readFileSync(file, 'utf8')).token === holder.token) unlinkSync(file);
    } catch {
      /* gone or not ours */
    }
  };
  process.on('exit', onExit);
  return {
    path: file,
    holder,
    async release() {
      if (released) return;
      released = true;
      process.off('exit', onExit);
      const seen = await readHolder(file);
      if (seen?.holder?.token === holder.token) await fs.rm(file, { force: true });
    },
  };
}
