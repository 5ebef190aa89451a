// Who may change the installed set. install/remove/forget (and an upgrade with work to
// do) change system state: root/administrator only, unless a user-mode root is set, in
// which case hooks write below it and any user may run them.
import { statfs } from 'node:fs/promises';
import { WaptError } from '../../errors.js';
import type { WaptConfig } from '../config.js';
import { systemRoot } from '../platform.js';

export interface RightsInput {
  /** platform.ts isAdmin(): root, or on Windows an elevated token or SYSTEM. */
  isAdmin?: boolean;
  /** Older callers: effective uid (0 = admin); used only when isAdmin is not given. */
  uid?: number;
  userModeRoot: string | null;
  /** Default process.platform. */
  platform?: NodeJS.Platform;
}

/** Where hooks install: user_mode_root when set, else the real root. Throws PERMISSION_DENIED. */
export function installTarget(input: RightsInput, verb: string): string {
  if (input.userModeRoot) return input.userModeRoot;
  const platform = input.platform ?? process.platform;
  const privileged = input.isAdmin ?? input.uid === 0;
  if (!privileged) {
    const how = platform === 'win32' ? 'from an elevated prompt (Run as administrator) or as SYSTEM' : 'as root';
    throw new WaptError('PERMISSION_DENIED', `${verb} changes installed software: run it ${how}, or set user_mode_root in wapt-get.ini`, {
      detail: { verb, uid: input.uid ?? null, platform },
    });
  }
  return systemRoot(platform, process.env);
}

/** The one rights check every state-changing verb asks; config.isRoot holds platform.ts isAdmin(). */
export function targetFor(config: WaptConfig, verb: string): string {
  return installTarget({ isAdmin: config.isRoot, userModeRoot: config.userModeRoot }, verb);
}

/** Bytes of `dir`'s filesystem we may still write, or null where statfs is unsupported. */
export async function freeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/** ERR_OUT_OF_SPACE (naming `dir`) unless `dir`'s filesystem has `needed` bytes free for us. */
export async function assertFreeSpace(dir: string, needed: number, what: string): Promise<void> {
  const free = await freeBytes(dir);
  // statfs unsupported here: the write itself still fails cleanly on ENOSPC
  if (free === null) return;
  if (needed > free) {
    throw new WaptError('ERR_OUT_OF_SPACE', `${what} needs ${needed} bytes in ${dir}, only ${free} are free`, {
      detail: { path: dir, needed, free },
    });
  }
}
