// Who may change the installed set. install/remove/forget (and an upgrade with work to
// do) change system state: root/administrator only, unless a user-mode root is set, in
// which case hooks write below it and any user may run them.
import { statfs } from 'node:fs/promises';
import { WaptError } from '../../errors.js';
import type { WaptConfig } from '../config.js';

export interface RightsInput {
  /** Effective uid; undefined on Windows (where isAdmin decides). */
  uid: number | undefined;
  isAdmin?: boolean;
  userModeRoot: string | null;
}

/** Where hooks install: user_mode_root when set, else the real root. Throws PERMISSION_DENIED. */
export function installTarget(input: RightsInput, verb: string): string {
  if (input.userModeRoot) return input.userModeRoot;
  const privileged = input.uid === undefined ? Boolean(input.isAdmin) : input.uid === 0;
  if (!privileged) {
    throw new WaptError('PERMISSION_DENIED', `${verb} changes installed software: run it as root, or set user_mode_root in wapt-get.ini`, {
      detail: { verb, uid: input.uid ?? null },
    });
  }
  return process.platform === 'win32' ? (process.env.SystemDrive ?? 'C:') + '\\' : '/';
}

export function targetFor(config: WaptConfig, verb: string): string {
  return installTarget(
    { uid: typeof process.getuid === 'function' ? process.getuid() : undefined, isAdmin: config.isRoot, userModeRoot: config.userModeRoot },
    verb,
  );
}

/** ERR_OUT_OF_SPACE unless `dir`'s filesystem has `needed` bytes free for us. */
export async function assertFreeSpace(dir: string, needed: number, what: string): Promise<void> {
  let free: number;
  try {
    const s = await statfs(dir);
    free = s.bavail * s.bsize;
  } catch {
    return; // statfs unsupported here: extraction itself still fails cleanly on ENOSPC
  }
  if (needed > free) {
    throw new WaptError('ERR_OUT_OF_SPACE', `${what} needs ${needed} bytes in ${dir}, only ${free} are free`, {
      detail: { path: dir, needed, free },
    });
  }
}
