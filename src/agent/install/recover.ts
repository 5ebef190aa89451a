// Crash recovery, run first by every verb that holds the run lock: (1) the process groups
// of hooks whose wapt-get run was killed are killed and their temp dirs swept, so an
// orphaned installer or uninstaller cannot change files after we decide anything; then
// (2) every in-flight row is resolved. Under the lock, a row left RUNNING (or DOWNLOAD…)
// by any pid but ours is an interrupted operation, whatever that pid runs now (it may
// have been reused by another program after a reboot): an install becomes ERROR
// (ERR_INTERRUPTED, retried by `upgrade`); a removal stays a pending removal (ERROR +
// pending_action 'remove'), which `upgrade` and `remove` run again and never re-install.
import { spawnSync } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isPidAlive, looksLikeWaptGet } from '../lock.js';
import { killTreeWindows, orphanTreeRoots, parseProcessList, processListCommand, systemTool } from '../hooks/windows/process-tree.js';
import type { InstalledRow, WaptDb } from '../db/index.js';
import type { AgentLog } from '../runtime.js';

/** Stored in error_code of rows a killed run left behind (in ERROR_TABLE for its remedy). */
export const ERR_INTERRUPTED = 'ERR_INTERRUPTED';
const IN_FLIGHT = new Set(['RUNNING', 'DOWNLOAD', 'INIT', 'UPGRADING']);

export interface Leftover {
  package: string;
  version: string;
  status: string;
  pid: number | null;
  /** What the killed run was doing: a removal stays pending, an install is retried. */
  action: 'install' | 'remove';
}

/**
 * Resolves every in-flight row not owned by this process. Only call it holding the run
 * lock: then no other wapt-get can be writing, so such a row is interrupted by
 * definition. Persists only when it changed something.
 */
export async function recoverInterrupted(db: WaptDb): Promise<Leftover[]> {
  const stale = db.installed.list().filter((r: InstalledRow) => IN_FLIGHT.has(r.install_status) && r.pid !== process.pid);
  if (stale.length === 0) return [];
  db.transaction(() => {
    for (const r of stale) {
      const removing = r.pending_action === 'remove';
      const doing = removing ? 'removing' : 'installing';
      const next = removing ? 'the removal stays pending' : 'upgrade retries the install';
      const note = `interrupted: the wapt-get run (pid ${r.pid ?? '?'}) that was ${doing} ${r.package} ${r.version} ended without finishing (status was ${r.install_status}); ${next}`;
      db.installed.setStatus(r.package, 'ERROR', {
        error_code: ERR_INTERRUPTED,
        pid: null,
        install_output: r.install_output ? `${r.install_output}\n${note}` : note,
      });
      db.log.append('error', note, r.package);
    }
  });
  await db.persist();
  return stale.map((r) => ({
    package: r.package,
    version: r.version,
    status: r.install_status,
    pid: r.pid,
    action: r.pending_action === 'remove' ? ('remove' as const) : ('install' as const),
  }));
}

/** Orphaned hooks first (they must not run on while we decide), then the rows; every step reported. */
export async function recoverUnderLock(db: WaptDb, log: AgentLog, tmpRoot?: string): Promise<Leftover[]> {
  const onKilled = (pgid: number, dir: string) => log.warn(`killed the setup hook (process group ${pgid}) left running by a killed run (${dir})`);
  for (const d of await sweepStaleTempDirs(tmpRoot, undefined, onKilled)) log.debug(`removed ${d}, left by a killed run`);
  const leftovers = await recoverInterrupted(db);
  for (const l of leftovers) {
    const pid = `pid ${l.pid ?? '?'}`;
    log.warn(
      l.action === 'remove'
        ? `${l.package} ${l.version} was being removed by a killed run (${pid}); marked ERROR (ERR_INTERRUPTED), the removal stays pending: upgrade or remove runs it again`
        : `${l.package} ${l.version} was left ${l.status} by a killed run (${pid}); marked ERROR (ERR_INTERRUPTED), upgrade will retry it`,
    );
  }
  return leftovers;
}

/** Per-package temp dirs are `<tmp>/wapt-get-pkg-<pid>-XXXXXX`. */
export const TEMP_PREFIX = 'wapt-get-pkg-';

/** The hook's process group id, written into the run's temp dir while a hook runs. */
export const HOOK_PGID_FILE = '.hook-pgid';

/**
 * Kills the process group of a hook whose wapt-get run was killed: hooks run in their
 * own group, so what they started (an installer, a `sleep`) outlives wapt-get. The group
 * is ours when its leader is still our hook child, or is gone or a zombie (Linux never
 * hands out a pid that is still some group's id); a leader that is another program
 * means the pid was recycled, and nothing is touched.
 */
async function killOrphanHook(dir: string): Promise<number | null> {
  const pgid = Number((await readFile(path.join(dir, HOOK_PGID_FILE), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pgid) || pgid <= 1) return null;
  if (process.platform === 'win32') return killOrphanTreeWindows(pgid);
  const stat = await readFile(`/proc/${pgid}/stat`, 'utf8').catch(() => null);
  const zombie = stat !== null && /\) Z /.test(stat);
  if (stat !== null && !zombie) {
    const cmdline = await readFile(`/proc/${pgid}/cmdline`, 'utf8').catch(() => '');
    if (!/hooks[\\/]child/.test(cmdline)) return null;
  }
  try {
    process.kill(-pgid, 'SIGKILL');
    return pgid;
  } catch {
    return null; // ESRCH: the whole group is already gone
  }
}

/** Windows: no groups or /proc; the process list decides (orphanTreeRoots) and taskkill /T ends each tree. */
function killOrphanTreeWindows(pid: number): number | null {
  const ps = processListCommand();
  const list = spawnSync(systemTool(ps.cmd), ps.args, { encoding: 'utf8', windowsHide: true, timeout: 60_000 });
  if (list.status !== 0) return null;
  const roots = orphanTreeRoots(parseProcessList(list.stdout), pid);
  for (const root of roots) killTreeWindows(root);
  return roots.length > 0 ? pid : null;
}

/** Removes temp dirs of runs that are gone (a kill -9 skips every `finally`) and their orphaned hooks. */
export async function sweepStaleTempDirs(
  tmpRoot = os.tmpdir(),
  isAlive: (pid: number) => boolean = isPidAlive,
  onKilled?: (pgid: number, dir: string) => void,
): Promise<string[]> {
  const names = await readdir(tmpRoot).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const n of names) {
    const m = new RegExp(`^${TEMP_PREFIX}(\\d+)-`).exec(n);
    const pid = Number(m?.[1]);
    // a live pid that is no node/wapt-get was reused after the run died (a reboot)
    if (!m || pid === process.pid || (isAlive(pid) && looksLikeWaptGet(pid))) continue;
    const killed = await killOrphanHook(path.join(tmpRoot, n));
    if (killed !== null) onKilled?.(killed, path.join(tmpRoot, n));
    await rm(path.join(tmpRoot, n), { recursive: true, force: true }).catch(() => undefined);
    removed.push(path.join(tmpRoot, n));
  }
  return removed;
}
