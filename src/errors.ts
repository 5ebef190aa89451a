// One error type for the whole program: a stable code from a closed list, a
// human message, optional machine detail and cause. The CLI maps the code to an
// exit code and a one-line remedy (see ERROR_TABLE); nothing else parses messages.

/** Exit codes, documented in README ("Exit codes"). */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  VERIFY: 3,
  NETWORK: 4,
  LOCK_BUSY: 5,
  INSTALL_FAILED: 6,
  UNRESOLVABLE: 7,
  DB: 8,
  KEY: 9,
  PERMISSION: 10,
  /** check-upgrades / list-upgrade --exit-code: there is work to do. */
  UPGRADES_PENDING: 100,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

interface CodeInfo {
  exit: ExitCode;
  /** What the person should do next; one line. */
  remedy: string;
}

export const ERROR_TABLE = {
  // usage and malformed input
  USAGE: { exit: EXIT.USAGE, remedy: '`wapt-get --help` lists every verb; `wapt-get install --help` (any verb) shows its options' },
  CONFIG_INVALID: { exit: EXIT.USAGE, remedy: 'fix the named key in wapt-get.ini' },
  CONFIG_NOT_FOUND: { exit: EXIT.USAGE, remedy: 'check the path given with --config (README: Configuration shows a wapt-get.ini)' },
  NO_REPOSITORY: { exit: EXIT.USAGE, remedy: 'set repo_url in the [global] section of wapt-get.ini; `wapt-get config` shows what was read' },
  NODE_TOO_OLD: { exit: EXIT.FAILURE, remedy: 'install Node.js 20.15 or newer (README: Install)' },
  ADDRESS_IN_USE: { exit: EXIT.FAILURE, remedy: 'another program listens there: choose another `serve --port` (0 picks a free one)' },
  CONTROL_PARSE: { exit: EXIT.USAGE, remedy: 'fix the named line of WAPT/control' },
  CONTROL_INVALID: { exit: EXIT.USAGE, remedy: 'fix the named field of WAPT/control' },
  MSI_INVALID: { exit: EXIT.USAGE, remedy: 'the file is not a Windows Installer database with ProductName/Version/Code; check that it is the .msi itself' },
  INSTALLER_MISSING: {
    exit: EXIT.USAGE,
    remedy: 'put the installer next to setup.mjs and set MSI/EXE and PRODUCT_CODE in it, or start over with `wapt-get make-template msi FILE.msi`',
  },
  CONTROL_UNSAFE: {
    exit: EXIT.VERIFY,
    remedy: 'the control holds a line break WAPT would split on, or a package name that is a path: do not install it; rebuild it with a clean control',
  },
  VERSION_INVALID: { exit: EXIT.USAGE, remedy: 'versions look like 1.2.3-4 (SOFT[-PACKAGING], packaging an integer)' },
  REQUIREMENT_INVALID: { exit: EXIT.USAGE, remedy: 'requirements look like name, name(>=1.2) or name=1.2-3' },
  IO_ERROR: { exit: EXIT.FAILURE, remedy: 'check the path and its permissions' },
  INTERNAL: { exit: EXIT.FAILURE, remedy: 'this is a bug in wapt-get; please report it with the command you ran' },

  // package archive and signature verification
  ZIP_INVALID: { exit: EXIT.VERIFY, remedy: 'the file is not a complete zip: download or build it again' },
  ZIP_UNSAFE_PATH: { exit: EXIT.VERIFY, remedy: 'the package holds a path outside its root; do not install it' },
  ZIP_SYMLINK: { exit: EXIT.VERIFY, remedy: 'packages may not contain symbolic links' },
  ZIP_DUPLICATE_ENTRY: { exit: EXIT.VERIFY, remedy: 'the package names one member twice; rebuild it' },
  ZIP_NONPORTABLE_NAME: {
    exit: EXIT.VERIFY,
    remedy: 'a member name is a different file on Windows (trailing dot or space, CON/NUL/COM1…, < > : " | ? *); rename it and rebuild',
  },
  ZIP_BOMB: { exit: EXIT.VERIFY, remedy: 'a member expands beyond its declared size or the allowed ratio; do not install it' },
  MANIFEST_INVALID: { exit: EXIT.VERIFY, remedy: 'WAPT/manifest.sha256 is missing or malformed; re-sign the package' },
  MANIFEST_MISMATCH: { exit: EXIT.VERIFY, remedy: 'the package content differs from its signed manifest; it was altered' },
  SIGNATURE_INVALID: { exit: EXIT.VERIFY, remedy: 'the manifest signature does not verify; the package was altered or signed badly' },
  CONTROL_SIGNATURE_INVALID: { exit: EXIT.VERIFY, remedy: 'the control attributes do not match their signature; the package or index entry was altered' },
  SIGNER_MISMATCH: { exit: EXIT.VERIFY, remedy: 'signer_fingerprint does not name the certificate that signed; re-sign the package' },
  SIGNER_UNTRUSTED: {
    exit: EXIT.VERIFY,
    remedy: 'add the issuing CA certificate to trusted_certs_dir (default: ssl/ beside wapt-get.ini); `wapt-get config` shows which directory is used',
  },
  CERT_EXPIRED: { exit: EXIT.VERIFY, remedy: 're-sign the package with a certificate that is currently valid' },
  CERT_NOT_YET_VALID: { exit: EXIT.VERIFY, remedy: 'check the clock, or wait until the certificate becomes valid' },
  CERT_REVOKED: { exit: EXIT.VERIFY, remedy: 'the signer certificate is revoked by a CRL in the trusted directory' },
  CODESIGNING_REQUIRED: { exit: EXIT.VERIFY, remedy: 'packages with setup code must be signed with a code-signing certificate (create-keycert --codesigning)' },
  CERT_CONSTRAINT: {
    exit: EXIT.VERIFY,
    remedy: 'a CA in the chain may not issue this certificate (pathLenConstraint or extendedKeyUsage): issue the signer from a CA allowed to',
  },
  CERT_INVALID: { exit: EXIT.VERIFY, remedy: 'the certificate could not be parsed; check the PEM file' },
  SETUP_PY_UNSUPPORTED: { exit: EXIT.INSTALL_FAILED, remedy: 'this package carries setup.py (Python); port it to setup.mjs to install it with wapt-get' },

  // keys
  KEY_PASSWORD_WRONG: {
    exit: EXIT.KEY,
    remedy: 'give the right password: --password-file FILE, WAPT_KEY_PASSWORD, or the prompt on a terminal (a CA key: --ca-password-file, WAPT_CA_PASSWORD)',
  },
  KEY_UNREADABLE: { exit: EXIT.KEY, remedy: 'check the key path and that you may read it' },
  KEY_INVALID: { exit: EXIT.KEY, remedy: 'the key is not an RSA private key in PEM; create one with create-keycert' },
  KEY_CERT_MISMATCH: { exit: EXIT.KEY, remedy: 'the private key does not belong to the certificate given' },

  // repository index
  INDEX_INVALID: { exit: EXIT.VERIFY, remedy: 'the Packages index is not a valid zip/text; run scanpackages again on the server' },
  INDEX_EXPIRED: { exit: EXIT.VERIFY, remedy: 'the repository index expired: the publisher must run scanpackages again (or the mirror is stale)' },
  INDEX_NEVER_FETCHED: { exit: EXIT.FAILURE, remedy: 'run `wapt-get update` first; `wapt-get doctor` checks each repository' },
  INDEX_STALE: { exit: EXIT.FAILURE, remedy: 'run `wapt-get update` (the stored index is older than index_max_age); `wapt-get doctor` says why it fails' },
  HOST_PACKAGE_MISMATCH: {
    exit: EXIT.VERIFY,
    remedy: 'the host repository served a package not named after this host (host_uuid or FQDN); it was refused, fix the host repository',
  },
  HOST_PACKAGE_ROLLBACK: {
    exit: EXIT.VERIFY,
    remedy: 'the host repository served an older host package than one already accepted: possible replay; publish a newer one',
  },
  INDEX_ROLLBACK: { exit: EXIT.VERIFY, remedy: 'the server offered an older index than one already seen: possible replay; check the mirror' },
  INDEX_DIGEST_MISMATCH: { exit: EXIT.VERIFY, remedy: 'the Packages member does not match the signed index statement; it was altered' },
  INDEX_UNSIGNED: { exit: EXIT.VERIFY, remedy: 'this repository once served a signed index; set allow_unsigned_index=1 only if you accept that risk' },
  INDEX_WRONG_REPOSITORY: {
    exit: EXIT.VERIFY,
    remedy: 'the index names another repository (e.g. DEV served for PROD): fix the URL or the mirror, or set repository_id for this repository',
  },
  INDEX_VERSION_AHEAD: {
    exit: EXIT.VERIFY,
    remedy: 'the index version or signing time is more than a day ahead: the publisher must re-sign it with a correct clock',
  },
  INDEX_VERSION_REUSED: { exit: EXIT.VERIFY, remedy: 'the server offered another index under a version already seen: possible equivocation; check the mirror' },
  SIGNER_NOT_ALLOWED: {
    exit: EXIT.VERIFY,
    remedy: 'sign with a certificate this role allows (docs/index-statement.md): code-signing, or one pinned as index_signer / index_freshness_signer',
  },
  SCAN_PREVIOUS_UNVERIFIED: {
    exit: EXIT.VERIFY,
    remedy: 'the existing Packages statement does not verify with an allowed key: check who wrote it, then run scanpackages --reset-version',
  },
  ERR_BAD_DIGEST: { exit: EXIT.VERIFY, remedy: 'the downloaded file does not match the index digest; it was deleted, try again' },

  // network
  NETWORK_ERROR: { exit: EXIT.NETWORK, remedy: 'check the repository URL, the network and the proxy settings' },
  HTTP_STATUS: { exit: EXIT.NETWORK, remedy: 'the server answered with an error; check the URL and the server logs' },
  TLS_ERROR: { exit: EXIT.NETWORK, remedy: 'the server certificate is not trusted: check verify_cert in wapt-get.ini' },
  TLS_PIN_MISMATCH: {
    exit: EXIT.NETWORK,
    remedy: 'the server certificate differs from the pinned one: possible interception; update the pin only if you know why',
  },
  TIMEOUT: { exit: EXIT.NETWORK, remedy: 'the server did not answer in time; raise timeout in wapt-get.ini or try later' },
  HTTP_TOO_LARGE: { exit: EXIT.NETWORK, remedy: 'the response is larger than allowed; check the URL' },
  HTTP_CONTENT_ENCODING: {
    exit: EXIT.NETWORK,
    remedy: 'the server or a proxy compressed the response unasked: turn off gzip for .wapt files and Packages there (nginx: gzip_types)',
  },
  INSECURE_URL: { exit: EXIT.NETWORK, remedy: 'use https://, or set allow_insecure_http=1 for this repository if you really mean it' },
  ERR_DOWNLOAD_PACK: { exit: EXIT.NETWORK, remedy: 'the package could not be downloaded; check the repository' },

  // local state
  DB_CORRUPT: {
    exit: EXIT.DB,
    remedy: 'the damaged DB was kept beside it and installed packages rebuilt from dbdir/installed/; check `wapt-get list`, then `wapt-get update`',
  },
  DB_ERROR: { exit: EXIT.DB, remedy: 'the local DB could not be written; check dbdir and free space' },
  LOCK_BUSY: { exit: EXIT.LOCK_BUSY, remedy: 'another wapt-get is running; wait for it or raise --lock-timeout' },
  STATE_UNSAFE: {
    exit: EXIT.DB,
    remedy: 'the named local state path is a symlink or belongs to another user: move it aside, or set dbdir to a directory only root owns',
  },
  PERMISSION_DENIED: { exit: EXIT.PERMISSION, remedy: 'run as root/administrator, or set user_mode_root in wapt-get.ini' },

  // resolution
  PACKAGE_NOT_FOUND: { exit: EXIT.UNRESOLVABLE, remedy: 'check the name with `wapt-get search`, then run `wapt-get update`' },
  UNSATISFIABLE: { exit: EXIT.UNRESOLVABLE, remedy: 'relax the requirement or publish a matching version' },
  CONFLICT: { exit: EXIT.UNRESOLVABLE, remedy: 'remove the conflicting package first, or choose another version' },
  DEPENDENCY_CYCLE: { exit: EXIT.UNRESOLVABLE, remedy: 'the packages depend on each other in a loop; fix their depends' },
  PACKAGE_HELD: { exit: EXIT.UNRESOLVABLE, remedy: 'the package is held; `wapt-get unhold NAME` first' },
  NOT_INSTALLED: { exit: EXIT.UNRESOLVABLE, remedy: 'see `wapt-get list` for what is installed' },
  NOT_REGISTERED: { exit: EXIT.FAILURE, remedy: 'this host holds no registration to undo; `wapt-get register` registers it' },
  CLIENT_TOO_OLD: { exit: EXIT.UNRESOLVABLE, remedy: 'the package needs a newer wapt-get (min_wapt_version)' },

  // signed actions (F3A): refused by the agent, reported back to the server
  ACTION_INVALID: { exit: EXIT.USAGE, remedy: 'sign the action again with `wapt-get action sign` (see `wapt-get help action`)' },
  ACTION_BAD_SIGNATURE: { exit: EXIT.VERIFY, remedy: 'the action was altered or signed badly; sign it again with `wapt-get action sign`' },
  ACTION_SIGNER_UNTRUSTED: { exit: EXIT.VERIFY, remedy: "put the admin's CA (or certificate) in action_signers_dir of wapt-get.ini" },
  ACTION_WRONG_HOST: { exit: EXIT.VERIFY, remedy: 'the action names another host UUID; sign one for this host (--host)' },
  ACTION_NOT_YET_VALID: { exit: EXIT.VERIFY, remedy: "check this host's clock and the admin's (signed_at is ahead)" },
  ACTION_EXPIRED: { exit: EXIT.VERIFY, remedy: 'sign the action again, with a longer --window for agents that only run from cron' },
  ACTION_REPLAYED: { exit: EXIT.VERIFY, remedy: 'this action id already ran here; sign a new action to run it again' },

  // packager workflow
  PACKAGE_HAS_CODE: {
    exit: EXIT.VERIFY,
    remedy: 'host, group and unit packages carry no setup code: edit that package from its source directory and build it with a code-signing key',
  },
  PACKAGE_EXISTS: { exit: EXIT.USAGE, remedy: 'publish a new version (bump the packaging number), or pass --force to replace a file that was never installed' },
  SOURCE_DIGEST_MISMATCH: {
    exit: EXIT.VERIFY,
    remedy: 'the downloaded installer does not match the sha256 the hook gives; check the vendor URL and the expected digest',
  },
  SERVER_REFUSED: {
    exit: EXIT.FAILURE,
    remedy: 'the server refused the request: its code and message say why (an admin credential: --token-file FILE or $WAPT_ADMIN_TOKEN)',
  },
  FINGERPRINT_MISMATCH: {
    exit: EXIT.VERIFY,
    remedy: 'the server certificate is not the one you confirmed; check the fingerprint out of band before pinning it',
  },

  // install transaction (OCS-style field codes)
  ERR_UNZIP: {
    exit: EXIT.INSTALL_FAILED,
    remedy: 'the package could not be extracted; `wapt-get history NAME` has the details, `wapt-get verify FILE` checks the file',
  },
  ERR_OUT_OF_SPACE: { exit: EXIT.INSTALL_FAILED, remedy: 'free disk space and run again' },
  ERR_EXIT_CODE: {
    exit: EXIT.INSTALL_FAILED,
    remedy: 'the setup hook failed; see its output with `wapt-get show NAME` and the log with `wapt-get history NAME`',
  },
  ERR_HOOK_FAILED: {
    exit: EXIT.INSTALL_FAILED,
    remedy: 'the setup hook threw; see its output with `wapt-get show NAME` and the log with `wapt-get history NAME`',
  },
  ERR_TIMEOUT: { exit: EXIT.INSTALL_FAILED, remedy: 'the setup hook ran past its timeout and was killed; raise install_timeout or fix the hook' },
  ERR_INTERRUPTED: {
    exit: EXIT.INSTALL_FAILED,
    remedy: 'a killed run left it half done; `wapt-get upgrade` finishes it (a removal is run again, never turned into an install)',
  },
  ERR_ALREADY_SETUP: { exit: EXIT.INSTALL_FAILED, remedy: 'the package is already installed at this version; use --force to reinstall' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_TABLE;

/**
 * "Worst" when several errors end one run (a plan, an update of several repositories):
 * earlier in this list wins. Tampering first, so a cron script watching for 3 always sees
 * it; then broken local state and rights; then the package's own failure before the
 * network and resolution failures that often follow from it.
 */
export const EXIT_SEVERITY: readonly ExitCode[] = [
  EXIT.VERIFY,
  EXIT.DB,
  EXIT.PERMISSION,
  EXIT.KEY,
  EXIT.INSTALL_FAILED,
  EXIT.NETWORK,
  EXIT.UNRESOLVABLE,
  EXIT.LOCK_BUSY,
  EXIT.USAGE,
  EXIT.FAILURE,
];

/** The exit code of one stored or reported error code (unknown codes: FAILURE). */
export function exitOfCode(code: string): ExitCode {
  return code in ERROR_TABLE ? ERROR_TABLE[code as ErrorCode].exit : EXIT.FAILURE;
}

/** The exit code of a run that ended with these error codes: the worst one's (EXIT_SEVERITY), 0 for none. */
export function worstExit(codes: Iterable<string>): ExitCode {
  let worst: ExitCode = EXIT.OK;
  for (const c of codes) {
    const e = exitOfCode(c);
    if (worst === EXIT.OK || EXIT_SEVERITY.indexOf(e) < EXIT_SEVERITY.indexOf(worst)) worst = e;
  }
  return worst;
}

export interface WaptErrorOptions {
  cause?: unknown;
  /** Machine-readable facts for --json output (file, field, line, expected…). */
  detail?: Record<string, unknown>;
  /** A next step more precise than the code's remedy (e.g. the verb whose --help to read). */
  hint?: string;
}

export class WaptError extends Error {
  readonly code: ErrorCode;
  readonly detail: Record<string, unknown>;
  private readonly specificHint: string | undefined;

  constructor(code: ErrorCode, message: string, options: WaptErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WaptError';
    this.code = code;
    this.detail = options.detail ?? {};
    this.specificHint = options.hint;
  }

  get exitCode(): ExitCode {
    return ERROR_TABLE[this.code].exit;
  }

  get remedy(): string {
    return ERROR_TABLE[this.code].remedy;
  }

  /** The hint line the CLI prints: the specific one when given, else the code's remedy. */
  get hint(): string {
    return this.specificHint ?? this.remedy;
  }
}

export function isWaptError(err: unknown, code?: ErrorCode): err is WaptError {
  return err instanceof WaptError && (code === undefined || err.code === code);
}

/** Wrap any thrown value so the CLI edge always has a code to map. */
export function asWaptError(err: unknown): WaptError {
  if (err instanceof WaptError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && ['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EEXIST'].includes(e.code)) {
    return new WaptError('IO_ERROR', e.message, { cause: err, detail: { errno: e.code, path: e.path } });
  }
  if (e && e.code === 'ENOSPC') return new WaptError('ERR_OUT_OF_SPACE', e.message, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new WaptError('INTERNAL', message, { cause: err });
}
