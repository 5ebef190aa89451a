// The published contract between wapt-get and a package's setup.mjs (spec X1).
// Package authors import these types with JSDoc:
//   /** @param {import('wapt-get/hooks').Helpers} h */
//   export async function install(h) { … }
// Types only: this file must stay free of runtime code so the d.ts is the whole story.

/** The hooks a setup.mjs may export; each receives one Helpers object. */
export type HookName = 'install' | 'uninstall' | 'audit' | 'session_setup' | 'update_package';

/** What an `audit` hook returns (W-G2); anything else is recorded as UNKNOWN. */
export type AuditResult = 'OK' | 'WARNING' | 'ERROR' | 'UNKNOWN';

export interface HookContext {
  /** Package name (control `package`). */
  package: string;
  /** Package version (control `version`). */
  version: string;
  /** Every attribute of WAPT/control, keys lowercase. */
  control: Record<string, string>;
  /** Install parameters given on the command line or by the server. */
  params: Record<string, unknown>;
  /** Root under which the hook writes: '/' normally, user_mode_root in user mode and tests. */
  targetRoot: string;
  /** Directory where the package was extracted (absent for uninstall after the cache was cleaned). */
  packageDir: string;
  /** What `install` stored with remember(), given back to uninstall/audit/update_package. */
  persistent: Record<string, unknown>;
  /** process.platform of the machine: 'linux', 'win32', 'darwin'… */
  os: string;
  /** process.arch: 'x64', 'arm64'… */
  arch: string;
  /** The user a session_setup hook runs for. */
  user?: string;
}

export interface RunOptions {
  /** Kill the command (SIGTERM, then SIGKILL) after this many ms. Default: no own limit (the hook timeout applies). */
  timeoutMs?: number;
  /** Working directory; default the package directory. */
  cwd?: string;
  /** Extra environment variables, merged over the hook's environment. */
  env?: Record<string, string>;
  /** Exit codes counted as success; default [0]. msiexec users want [0, 3010]. */
  accept?: number[];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Helpers {
  ctx: HookContext;
  /** A line on the hook's stdout (captured into install_output). */
  log(msg: string): void;
  /** A line on the hook's stderr, prefixed `warning: `. */
  warn(msg: string): void;
  /**
   * Runs a program without a shell; its output is also copied to the hook's output.
   * Throws on an exit code not in `accept`; the error names the code and the tail of stderr.
   */
  run(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Copies a file or directory of the package to a path under targetRoot; returns files written, relative to targetRoot. */
  copyTree(fromInPackage: string, toUnderTarget: string): Promise<string[]>;
  /** Deletes a path under targetRoot (missing is fine; targetRoot itself is refused). */
  removeTree(underTarget: string): Promise<void>;
  /** Maps a path (absolute or relative) under targetRoot; throws if it would escape it. */
  targetPath(rel: string): string;
  /** Installs a .deb shipped in the package (apt-get, else dpkg); throws if neither exists. */
  installDeb(pathInPackage: string): Promise<void>;
  /** Removes an installed Debian package by name. */
  removeDeb(name: string): Promise<void>;
  /** Installs a .rpm shipped in the package (dnf, yum, else rpm); throws if none exists. */
  installRpm(pathInPackage: string): Promise<void>;
  /** Removes an installed RPM package by name. */
  removeRpm(name: string): Promise<void>;
  /** Stores a JSON-serialisable value into `persistent`, handed back to later hooks. */
  remember(key: string, value: unknown): void;
  /** An install parameter; throws if absent and no fallback is given. */
  param<T = unknown>(name: string, fallback?: T): T;
}

/** The signature every exported hook has. */
export type Hook = (h: Helpers) => unknown | Promise<unknown>;
