// setup.mjs of {{package}}: run by wapt-get (spec X1), never by WAPT (which runs setup.py).
// Every exported hook (install, uninstall, audit, session_setup, update_package) receives one
// helpers object `h`; see its types in wapt-get/hooks. Hooks run in their own process with
// cwd = the extracted package; a throw fails the operation and its message is shown.
// Paths given to h.copyTree/h.removeTree/h.targetPath are resolved under h.ctx.targetRoot
// ('/' on a real install, user_mode_root in user mode), and may not escape it.
// Template "deb": installs a Debian package shipped in this package (apt-get, else dpkg).
// installDeb/removeDeb act on the whole system, so they refuse a user-mode targetRoot.

/** The .deb file inside this package. */
const DEB = '{{package}}.deb';
/** The Debian package name it installs (what `dpkg -s NAME` knows). */
const DEB_NAME = '{{package}}';

/** @param {import('wapt-get/hooks').Helpers} h */
export async function install(h) {
  await h.installDeb(DEB);
  h.remember('deb_name', DEB_NAME);
}

/** @param {import('wapt-get/hooks').Helpers} h */
export async function uninstall(h) {
  await h.removeDeb(/** @type {string} */ (h.ctx.persistent.deb_name ?? DEB_NAME));
}

/**
 * @param {import('wapt-get/hooks').Helpers} h
 * @returns {Promise<import('wapt-get/hooks').AuditResult>}
 */
export async function audit(h) {
  const name = /** @type {string} */ (h.ctx.persistent.deb_name ?? DEB_NAME);
  const r = await h.run('dpkg-query', ['-W', '-f=${Status}', name], { accept: [0, 1] });
  return r.code === 0 && r.stdout.includes('install ok installed') ? 'OK' : 'ERROR';
}
