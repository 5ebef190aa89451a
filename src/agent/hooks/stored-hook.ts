// Stored hooks (remove, audit, session-setup) run the setup.mjs kept in the DB. Issue 8 §6:
// it is written into a private directory under dbdir (<dbdir>/hooks/<pid>-XXXXXX, 0700,
// ours; the file 0600, created exclusively), never into a bare temp dir, so nothing
// another user can write sits beside it or above it in the lookup for a bare `import`
// (the hook child also refuses to resolve one outside that directory, child.ts).
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../../private-state.js';
import { isPidAlive } from '../lock.js';

export const STORED_HOOKS_DIR = 'hooks';

/** Removes the `<pid>-XXXXXX` directories of runs that are gone (a kill -9 skips every `finally`). */
export async function sweepDeadRunDirs(root: string): Promise<void> {
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isPidAlive(pid)) continue;
    await rm(path.join(root, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

export interface StoredHook {
  /** The private directory holding setup.mjs. */
  dir: string;
  setupPath: string;
}

/** Writes `code` as setup.mjs in a fresh private directory beside the DB; `cleanup()` removes it. */
export async function createStoredHook(dbPath: string, code: string, onWarning?: (m: string) => void): Promise<StoredHook & { cleanup(): Promise<void> }> {
  const dbdir = path.dirname(dbPath);
  const root = path.join(dbdir, STORED_HOOKS_DIR);
  await ensurePrivateDir(dbdir, { onWarning });
  await ensurePrivateDir(root, { onWarning });
  await sweepDeadRunDirs(root);
  const dir = await mkdtemp(path.join(root, `${process.pid}-`));
  const cleanup = () => rm(dir, { recursive: true, force: true }).catch(() => undefined);
  try {
    const setupPath = path.join(dir, 'setup.mjs');
    await writeFile(setupPath, code, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    return { dir, setupPath, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** createStoredHook, `fn`, then the directory removed. */
export async function withStoredHook<T>(dbPath: string, code: string, fn: (hook: StoredHook) => Promise<T>, onWarning?: (m: string) => void): Promise<T> {
  const stored = await createStoredHook(dbPath, code, onWarning);
  try {
    return await fn(stored);
  } finally {
    await stored.cleanup();
  }
}
