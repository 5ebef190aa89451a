// setup.mjs of {{package}}: run by wapt-get (spec X1), never by WAPT (which runs setup.py).
// Every exported hook (install, uninstall, audit, session_setup, update_package) receives one
// helpers object `h`; see its types in wapt-get/hooks. Hooks run in their own process with
// cwd = the extracted package; a throw fails the operation and its message is shown.
// wapt-get template: msi — build-package refuses this package while MSI is not in it or
// PRODUCT_CODE is empty. Install if needed: msiexec is skipped when PRODUCT_CODE is
// already installed at PRODUCT_VERSION (WAPT install_msi_if_needed).

/** The .msi file inside this package. */
const MSI = {{msi_file}};
/** The MSI ProductCode ({XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}); `make-template msi FILE.msi` reads it from the MSI. */
const PRODUCT_CODE = {{product_code}};
/** The MSI ProductVersion, as the Uninstall key's DisplayVersion shows it. */
const PRODUCT_VERSION = {{product_version}};
/** Public MSI properties for msiexec, e.g. { INSTALLDIR: 'C:\\Apps\\{{package}}' }. */
const PROPERTIES = {};

/** @param {import('wapt-get/hooks').Helpers} h */
function requireWindows(h) {
  if (h.ctx.os !== 'win32') throw new Error(`{{package}} needs Windows (this system is ${h.ctx.os}): ${MSI} was not run and nothing was changed`);
  if (!PRODUCT_CODE) throw new Error('set PRODUCT_CODE in setup.mjs');
}

/**
 * DisplayVersion of PRODUCT_CODE in the Uninstall keys (both registry views), or undefined.
 * @param {import('wapt-get/hooks').Helpers} h
 */
async function installedVersion(h) {
  const code = PRODUCT_CODE.toUpperCase();
  return (await h.installedSoftware()).find((s) => s.key.toUpperCase() === code)?.version;
}

/** @param {import('wapt-get/hooks').Helpers} h */
export async function install(h) {
  requireWindows(h);
  const have = await installedVersion(h);
  if (have === PRODUCT_VERSION) {
    h.log(`${PRODUCT_CODE} ${have} is already installed: msiexec skipped`);
  } else {
    const r = await h.installMsi(MSI, { properties: PROPERTIES });
    h.log(`installed ${MSI} (${PRODUCT_CODE} ${PRODUCT_VERSION}${have ? `, was ${have}` : ''}); msiexec log: ${r.log}`);
    if (r.rebootRequired) h.warn(`a reboot is required to finish installing {{package}} (msiexec exit ${r.code})`);
  }
  // WAPT keeps the uninstall keys of a package (DB column uninstall_key): a list of ProductCodes.
  h.remember('uninstall_key', [PRODUCT_CODE]);
}

/** @param {import('wapt-get/hooks').Helpers} h */
export async function uninstall(h) {
  requireWindows(h);
  const keys = /** @type {string[]} */ (h.ctx.persistent.uninstall_key ?? [PRODUCT_CODE]);
  for (const key of keys) {
    const r = await h.removeMsi(key); // not installed (1605) is fine
    if (r.rebootRequired) h.warn(`a reboot is required to finish removing ${key}`);
  }
}

/** @param {import('wapt-get/hooks').Helpers} h */
export async function audit(h) {
  requireWindows(h);
  const have = await installedVersion(h);
  if (have === undefined) {
    h.log(`${PRODUCT_CODE} is not installed`);
    return 'ERROR';
  }
  if (have !== PRODUCT_VERSION) {
    h.log(`${PRODUCT_CODE} is installed at ${have}, this package has ${PRODUCT_VERSION}`);
    return 'WARNING';
  }
  return 'OK';
}
