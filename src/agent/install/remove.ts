// Removing one installed package: its stored setup.mjs (setup_code) runs uninstall()
// with the stored persistent data, from a temp dir, so it works after the cache is
// cleaned; then the row goes. Before uninstall() runs the row is made durable as RUNNING
// with pending_action 'remove' (and the hook's process group is left in the temp dir, as
// for install hooks), so a kill -9 leaves a removal the next run finishes, never an
// install. A failing uninstall keeps the row (ERROR + code, still pending removal) so
// nothing is forgotten that is still on disk and the admin's intent is kept.
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { asWaptError } from '../../errors.js';
import type { InstalledRow, WaptDb } from '../db/index.js';
import { runHook } from '../hooks/runner.js';
import { createStoredHook } from '../hooks/stored-hook.js';
import { HOOK_PGID_FILE, TEMP_PREFIX } from './recover.js';
import type { StepResult } from './transaction.js';

export interface RemoveDeps {
  db: WaptDb;
  targetRoot: string;
  timeoutMs: number;
  tmpRoot?: string;
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  killGraceMs?: number;
}

export async function removePackage(row: InstalledRow, deps: RemoveDeps): Promise<StepResult> {
  const { db } = deps;
  const base = { package: row.package, version: row.version, action: 'remove' as const };
  let tmp: string | undefined;
  let stored: { cleanup(): Promise<void> } | undefined;
  try {
    if (row.setup_code) {
      tmp = await mkdtemp(path.join(deps.tmpRoot ?? os.tmpdir(), `${TEMP_PREFIX}${process.pid}-`));
      // issue 8 §6: the code runs from a private directory beside the DB (tmp keeps the hook's pgid)
      const hookFile = await createStoredHook(db.path, row.setup_code);
      stored = hookFile;
      const { setupPath } = hookFile;
      db.transaction(() => {
        db.installed.setStatus(row.package, 'RUNNING', { pid: process.pid, pending_action: 'remove' });
        db.log.append('info', `remove ${row.package} ${row.version} started (pid ${process.pid})`, row.package);
      });
      await db.persist();
      const persistent = row.uninstall_data && typeof row.uninstall_data === 'object' ? (row.uninstall_data as Record<string, unknown>) : {};
      await runHook({
        setupPath,
        hook: 'uninstall',
        ctx: {
          package: row.package,
          version: row.version,
          control: { package: row.package, version: row.version, architecture: row.architecture, section: row.section },
          params: row.install_params,
          targetRoot: deps.targetRoot,
          packageDir: tmp,
          persistent,
          os: process.platform,
          arch: process.arch,
        },
        timeoutMs: deps.timeoutMs,
        onOutput: deps.onOutput,
        killGraceMs: deps.killGraceMs,
        // a kill -9 of this run skips every cleanup: the next run's sweep kills this group
        onSpawn: (pid) => writeFileSync(path.join(tmp!, HOOK_PGID_FILE), String(pid)),
      });
    }
    db.transaction(() => {
      db.installed.remove(row.package);
      db.sessions.forgetPackage(row.package);
      db.log.append('info', `removed ${row.package} ${row.version}`, row.package);
    });
    await db.persist();
    return { ...base, status: 'REMOVED' };
  } catch (err) {
    const e = asWaptError(err);
    const output = typeof e.detail.output === 'string' ? `${e.detail.output}\n` : '';
    db.transaction(() => {
      db.installed.setStatus(row.package, 'ERROR', {
        pid: null,
        pending_action: 'remove',
        error_code: e.code,
        install_output: `${output}[${e.code}] uninstall failed: ${e.message}`,
      });
      db.log.append('error', `remove ${row.package} failed: [${e.code}] ${e.message}; the removal stays pending`, row.package);
    });
    await db.persist();
    return { ...base, status: 'ERROR', error_code: e.code, message: e.message };
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    await stored?.cleanup();
  }
}
