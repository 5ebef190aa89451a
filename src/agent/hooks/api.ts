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

export interface Helpers extends WindowsHelpers {
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
  /**
   * update_package: downloads `url` into the package (source) directory as `nameInPackage`,
   * streamed through SHA-256 and compared with `opts.sha256` when given. On a mismatch
   * (code SOURCE_DIGEST_MISMATCH) nothing is kept and the directory is unchanged.
   */
  download(url: string, nameInPackage: string, opts?: DownloadOptions): Promise<DownloadResult>;
}

export interface DownloadOptions {
  /** Expected SHA-256 (hex) of the file: the vendor's published digest. */
  sha256?: string;
  /** Refuse bodies larger than this (default 4 GiB). */
  maxBytes?: number;
  /** Default 30 minutes. */
  timeoutMs?: number;
  /** Allow a plain http:// URL (then sha256 is required). */
  allowHttp?: boolean;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  size: number;
}

/**
 * What update_package returns: the new version for WAPT/control (SOFT-PACKAGING), or
 * nothing when the source is already current.
 */
export interface UpdatePackageResult {
  version?: string;
}

/** Which registry view: 64-bit (native) or 32-bit (WOW6432Node); default: the OS's native view. */
export type RegistryView = 32 | 64;
export type RegistryValueType = 'REG_SZ' | 'REG_EXPAND_SZ' | 'REG_MULTI_SZ' | 'REG_DWORD' | 'REG_QWORD' | 'REG_BINARY' | 'REG_NONE';

export interface RegistryValue {
  /** '' is the key's default value. */
  name: string;
  type: RegistryValueType;
  /** REG_DWORD/QWORD: number (bigint past 2^53); REG_MULTI_SZ: string[]; REG_BINARY: Buffer; else string. */
  data: string | number | bigint | string[] | Buffer;
}

export interface MsiOptions {
  /** Public properties passed as NAME="value" (NAME in capitals, e.g. INSTALLDIR, ALLUSERS). */
  properties?: Record<string, string>;
  /** Verbose msiexec log (/L*v); default <temp>/<package>-msiexec.log. Its path is in the result. */
  log?: string;
  /** Default 30 minutes. */
  timeoutMs?: number;
}

export interface MsiResult {
  /** msiexec's exit code: 0, 3010 (reboot required), 1641 (reboot started), 1605 on removal (was not installed). */
  code: number;
  rebootRequired: boolean;
  log: string;
}

/** One entry of the Uninstall registry keys (WAPT installed_softwares). */
export interface InstalledSoftware {
  /** Subkey name: the ProductCode for MSI products, the installer's own name otherwise. */
  key: string;
  name: string;
  version: string;
  publisher: string;
  uninstallString: string;
  quietUninstallString: string;
  installLocation: string;
  installDate: string;
  /** Installed by Windows Installer (WindowsInstaller=1). */
  msi: boolean;
  systemComponent: boolean;
  /** 64: the native view; 32: WOW6432Node (a 32-bit program on 64-bit Windows). */
  view: RegistryView;
  hive: 'HKLM' | 'HKCU';
}

export type ServiceState = 'RUNNING' | 'STOPPED' | 'START_PENDING' | 'STOP_PENDING' | 'PAUSED' | 'PAUSE_PENDING' | 'CONTINUE_PENDING' | 'NOT_FOUND';

export interface ServiceControl {
  /** Starts the service and waits until RUNNING (already running is fine). WAPT service_start. */
  start(opts?: { timeoutMs?: number }): Promise<void>;
  /** Stops the service and waits until STOPPED (already stopped is fine). WAPT service_stop. */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
  /** Current state; NOT_FOUND when no such service exists. WAPT service_is_running/service_installed. */
  status(): Promise<ServiceState>;
}

/**
 * Windows-only helpers (WAPT setuphelpers counterparts in docs/windows.md). Each throws
 * "<helper> needs Windows" on any other system, before running anything.
 */
export interface WindowsHelpers {
  /** msiexec /i FILE /qn /norestart /L*v LOG [NAME="value"…]; 0/3010/1641 succeed, others throw naming the log. */
  installMsi(pathInPackage: string, opts?: MsiOptions): Promise<MsiResult>;
  /** msiexec /x {PRODUCT-CODE} /qn /norestart /L*v LOG; not installed (1605) is fine. */
  removeMsi(productCode: string, opts?: Omit<MsiOptions, 'properties'>): Promise<MsiResult>;
  /** Runs an installer shipped in the package with exactly these arguments (never split on spaces). */
  installExe(pathInPackage: string, args: string[], opts?: { accept?: number[]; timeoutMs?: number }): Promise<RunResult>;
  /** Every Uninstall entry with a DisplayName, HKLM in both views then HKCU. */
  installedSoftware(): Promise<InstalledSoftware[]>;
  /**
   * Uninstalls by Uninstall subkey (ProductCode) or exact DisplayName: MSI products via
   * removeMsi, others via QuietUninstallString, else UninstallString plus the silent switch
   * of a recognised uninstaller (Inno Setup, NSIS) or `silentArgs`. Returns false if nothing matched.
   */
  uninstallKey(nameOrCode: string, opts?: { silentArgs?: string[]; timeoutMs?: number }): Promise<boolean>;
  /** One value, or undefined when the key or value does not exist. */
  registryGet(key: string, name: string, opts?: { view?: RegistryView }): Promise<RegistryValue | undefined>;
  /** Creates the key as needed; type default REG_SZ (REG_DWORD for a number). */
  registrySet(key: string, name: string, data: RegistryValue['data'], opts?: { type?: RegistryValueType; view?: RegistryView }): Promise<void>;
  /** Deletes one value, or the whole key when name is omitted; missing is fine. */
  registryDelete(key: string, name?: string, opts?: { view?: RegistryView }): Promise<void>;
  /** sc.exe control of one service. */
  service(name: string): ServiceControl;
}

/** The signature every exported hook has. */
export type Hook = (h: Helpers) => unknown | Promise<unknown>;
