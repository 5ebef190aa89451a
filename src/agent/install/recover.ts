// Crash recovery: a run killed mid-install leaves its row RUNNING (or DOWNLOAD) with its
// pid. The next run marks such rows ERROR (ERR_INTERRUPTED) so `upgrade` retries them;
// rows owned by a live process are another run's business and are left alone.
import { spawnSync } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isPidAlive } from '../lock.js';
import { killTreeWindows, orphanTreeRoots, parseProcessList, processListCommand } from '../hooks/windows/process-tree.js';
import type { InstalledRow, WaptDb } from '../db/index.js';

/** Stored in error_code of rows a killed run left behind (not a WaptError code: nothing throws it). */
export const ERR_INTERRUPTED = 'ERR_INTERRUPTED';
const IN_FLIGHT = new Set(['RUNNING', 'DOWNLOAD', 'INIT', 'UPGRADING']);

export interface Leftover {
  package: string;
  version: string;
  status: string;
  pid: number | null;
}

/** Finds and resolves interrupted rows; persists only when it changed something. */
export async function recoverInterrupted(db: WaptDb, isAlive: (pid: number) => boolean = isPidAlive): Promise<Leftover[]> {
  const stale = db.installed
    .list()
    .filter((r: InstalledRow) => IN_FLIGHT.has(r.install_status) && (r.pid === null || (r.pid !== process.pid && !isAlive(r.pid))));
  if (stale.length === 0) return [];
  db.transaction(() => {
    for (const r of stale) {
      const note = `interrupted: the wapt-get run (pid ${r.pid ?? '?'}) that was installing ${r.package} ${r.version} ended without finishing (status was ${r.install_status})`;
      db.installed.setStatus(r.package, 'ERROR', {
        error_code: ERR_INTERRUPTED,
        pid: null,
        install_output: r.install_output ? `${r.install_output}\n${note}` : note,
      });
      db.log.append('error', note, r.package);
    }
  });
  await db.persist();
  return stale.map((r) => ({ package: r.package, version: r.version, status: r.install_status, pid: r.pid }));
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
  const list = spawnSync(processListCommand().cmd, processListCommand().args, { encoding: 'utf8', windowsHide: true, timeout: 60_000 });
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
    if (!m || Number(m[1]) === process.pid || isAlive(Number(m[1]))) continue;
    const killed = await killOrphanHook(path.join(tmpRoot, n));
    if (killed !== null) onKilled?.(killed, path.join(tmpRoot, n));
    await rm(path.join(tmpRoot, n), { recursive: true, force: true }).catch(() => undefined);
    removed.push(path.join(tmpRoot, n));
  }
  return removed;
}
