// setup.mjs of {{package}}: run by wapt-get (spec X1), never by WAPT (which runs setup.py).
// Every exported hook (install, uninstall, audit, session_setup, update_package) receives one
// helpers object `h`; see its types in wapt-get/hooks. Hooks run in their own process with
// cwd = the extracted package; a throw fails the operation and its message is shown.
// wapt-get template: exe — build-package refuses this package while EXE is not in it.
// Install if needed: the installer is skipped when UNINSTALL_KEY is registered at VERSION.

/** The installer inside this package. */
const EXE = {{exe_file}};
/** Silent switches, one argument each (never split on spaces). Detected: {{installer_kind}}. */
const SILENT = {{silent_args}};
/** The installer's key under SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall (or its DisplayName): see `reg query` after a test install. */
const UNINSTALL_KEY = {{uninstall_key}};
/** DisplayVersion the installer registers; '' = always run the installer. */
const VERSION = '';

/** @param {import('wapt-get/hooks').Helpers} h */
function requireWindows(h) {
  if (h.ctx.os !== 'win32') throw new Error(`{{package}} needs Windows (this system is ${h.ctx.os}): ${EXE} was not run and nothing was changed`);
}

/** @param {import('wapt-get/hooks').Helpers} h */
async function installedVersion(h) {
  const key = UNINSTALL_KEY.toLowerCase();
  return (await h.installedSoftware()).find((s) => s.key.toLowerCase() === key || s.name === UNINSTALL_KEY)?.version;
}

/** @param {import('wapt-get/hooks').Helpers} h */
export async function install(h) {
  requireWindows(h);
  if (VERSION && (await installedVersion(h)) === VERSION) {
    h.log(`${UNINSTALL_KEY} ${VERSION} is already installed: ${EXE} skipped`);
  } else {
    await h.installExe(EXE, SILENT, { accept: [0, 3010] });
  }
  h.remember('uninstall_key', [UNINSTALL_KEY]);
}

/** @param {import('wapt-get/hooks').Helpers} h */
export async function uninstall(h) {
  requireWindows(h);
  const keys = /** @type {string[]} */ (h.ctx.persistent.uninstall_key ?? [UNINSTALL_KEY]);
  for (const key of keys) {
    // MSI products via msiexec /x; others via QuietUninstallString or a known uninstaller's switches.
    if (!(await h.uninstallKey(key))) h.warn(`uninstall key ${key} not found: already uninstalled?`);
  }
}
