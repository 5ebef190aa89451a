// The host's platform facts the agent decides on, each answered in ONE place:
// is this process an administrator (root, or on Windows an elevated token or
// SYSTEM), where config/DB/cache/trusted certificates live by default, and how a
// private directory is locked down on Windows (icacls). The deciding functions are
// pure (platform, environment and command runner injected) so they are tested on Linux.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { systemTool } from './hooks/windows/cmdline.js';

/** Result of one probe command; `code` null when it could not be started. */
export interface ProbeResult {
  code: number | null;
  stdout: string;
}
/** Runs a program without a shell and returns its exit code and stdout. */
export type ProbeRunner = (cmd: string, args: string[]) => ProbeResult;

export interface AdminProbe {
  platform: NodeJS.Platform;
  /** Effective uid (POSIX); undefined where the platform has none. */
  euid: number | undefined;
  run: ProbeRunner;
}

/** Well-known SIDs (MS-DTYP 2.4.2.4). */
export const SID = {
  SYSTEM: 'S-1-5-18',
  ADMINISTRATORS: 'S-1-5-32-544',
  HIGH_INTEGRITY: 'S-1-16-12288',
  SYSTEM_INTEGRITY: 'S-1-16-16384',
} as const;

/**
 * Windows: admin when the token runs at high or system integrity (elevated, or a
 * service/task as SYSTEM), or the user is SYSTEM. A member of Administrators in a
 * non-elevated prompt runs at medium integrity (UAC filtered token): not admin.
 * `whoami` output is read for the SIDs only, which are not localised.
 */
export function decideAdmin(probe: AdminProbe): boolean {
  if (probe.platform !== 'win32') return probe.euid === 0;
  const user = probe.run('whoami', ['/user', '/fo', 'csv', '/nh']);
  if (user.code === 0 && sidsIn(user.stdout).includes(SID.SYSTEM)) return true;
  const groups = probe.run('whoami', ['/groups', '/fo', 'csv', '/nh']);
  if (groups.code === 0) {
    const sids = sidsIn(groups.stdout);
    return sids.includes(SID.HIGH_INTEGRITY) || sids.includes(SID.SYSTEM_INTEGRITY);
  }
  // No whoami (stripped image): `net session` succeeds only with an elevated token.
  return probe.run('net', ['session']).code === 0;
}

/** Every SID-looking token in `text` (whoami prints them in quotes, one column). */
export function sidsIn(text: string): string[] {
  return [...text.matchAll(/\bS-1-\d+(?:-\d+)+\b/g)].map((m) => m[0]);
}

function realRunner(cmd: string, args: string[]): ProbeResult {
  try {
    return {
      code: 0,
      stdout: execFileSync(systemTool(cmd), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], windowsHide: true, timeout: 10_000 }),
    };
  } catch (e) {
    const err = e as { status?: number | null; stdout?: string };
    return { code: typeof err.status === 'number' ? err.status : null, stdout: err.stdout ?? '' };
  }
}

let cachedAdmin: boolean | undefined;

/** THE answer to "may this process change installed software system-wide?" Asked by every verb (through config.isRoot). */
export function isAdmin(): boolean {
  cachedAdmin ??= decideAdmin({ platform: process.platform, euid: process.geteuid?.(), run: realRunner });
  return cachedAdmin;
}

export interface PathInputs {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  isAdmin: boolean;
  /** Default os.homedir(). */
  home?: string;
}

export interface DefaultPaths {
  configPath: string;
  dbdir: string;
}

/**
 * Default config file and state directory. Windows, administrator: everything under
 * %ProgramData%\wapt-get (ssl\ and cache\ beside the ini and DB, as config.ts derives);
 * a non-elevated user gets per-user folders, as a non-root user does on Linux.
 */
export function defaultPaths(p: PathInputs): DefaultPaths {
  const { env } = p;
  const home = p.home ?? os.homedir();
  if (p.platform === 'win32') {
    const w = path.win32;
    const programData = env.ProgramData || env.PROGRAMDATA || 'C:\\ProgramData';
    if (p.isAdmin) {
      const dir = w.join(programData, 'wapt-get');
      return { configPath: w.join(dir, 'wapt-get.ini'), dbdir: dir };
    }
    const roaming = env.APPDATA || w.join(home, 'AppData', 'Roaming');
    const local = env.LOCALAPPDATA || w.join(home, 'AppData', 'Local');
    return { configPath: w.join(roaming, 'wapt-get', 'wapt-get.ini'), dbdir: w.join(local, 'wapt-get') };
  }
  const px = path.posix;
  if (p.isAdmin) return { configPath: '/etc/wapt-get/wapt-get.ini', dbdir: '/var/lib/wapt-get' };
  const xdgConfig = env.XDG_CONFIG_HOME || px.join(env.HOME || home, '.config');
  const xdgState = env.XDG_STATE_HOME || px.join(env.HOME || home, '.local', 'state');
  return { configPath: px.join(xdgConfig, 'wapt-get', 'wapt-get.ini'), dbdir: px.join(xdgState, 'wapt-get') };
}

/** The root a system-wide install targets: `/`, or `C:\` (SystemDrive) on Windows. */
export function systemRoot(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string {
  return platform === 'win32' ? `${env.SystemDrive || 'C:'}\\` : '/';
}

/**
 * icacls arguments that make `dir` private to Administrators and SYSTEM, the Windows
 * side of "our dirs 0700": inherited ACEs dropped (/inheritance:r), full control for
 * both by SID (locale-independent), inherited by files and subfolders (OI)(CI).
 */
export function privateAclArgs(dir: string): string[] {
  return [path.win32.normalize(dir), '/inheritance:r', '/grant:r', `*${SID.ADMINISTRATORS}:(OI)(CI)F`, '/grant:r', `*${SID.SYSTEM}:(OI)(CI)F`, '/q'];
}

/** Applies privateAclArgs on Windows (no-op elsewhere: POSIX modes do the job). Throws when icacls fails. */
export function restrictToAdmins(dir: string, platform: NodeJS.Platform = process.platform, run: ProbeRunner = realRunner): void {
  if (platform !== 'win32') return;
  const r = run('icacls', privateAclArgs(dir));
  if (r.code !== 0) throw new Error(`icacls could not restrict ${dir} to Administrators and SYSTEM (exit ${r.code ?? 'not started'})`);
}

/**
 * Windows has no modes: the state dirs of an admin run (dbdir, cache) are kept to
 * Administrators and SYSTEM with icacls, each run (cheap, and repairs a widened ACL).
 * A non-admin (user mode) run keeps its own per-user folders as they are. No-op on POSIX,
 * where ensurePrivateDir's 0700 does the job.
 */
export function protectStateDirs(dirs: readonly string[], o: { isAdmin: boolean; platform?: NodeJS.Platform; run?: ProbeRunner }): void {
  if ((o.platform ?? process.platform) !== 'win32' || !o.isAdmin) return;
  for (const d of dirs) restrictToAdmins(d, 'win32', o.run ?? realRunner);
}
