// setup.mjs of {{package}}: run by wapt-get (spec X1), never by WAPT (which runs setup.py).
// Every exported hook (install, uninstall, audit, session_setup, update_package) receives one
// helpers object `h`; see its types in wapt-get/hooks. Hooks run in their own process with
// cwd = the extracted package; a throw fails the operation and its message is shown.
// Paths given to h.copyTree/h.removeTree/h.targetPath are resolved under h.ctx.targetRoot
// ('/' on a real install, user_mode_root in user mode), and may not escape it.
// Template "msi": silent MSI install (msiexec /qn /norestart). 3010 means "reboot needed": success.
import path from 'node:path';

/** The .msi file inside this package. */
const MSI = '{{package}}.msi';
/** The MSI ProductCode ('{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}'), from the Uninstall registry key; uninstall needs it. */
const PRODUCT_CODE = '';
const OK_CODES = [0, 3010];

/** @param {import('wapt-get/hooks').Helpers} h */
function requireWindows(h) {
  if (h.ctx.os !== 'win32') throw new Error(`{{package}} needs Windows (this system is ${h.ctx.os})`);
}

/** @param {import('wapt-get/hooks').Helpers} h */
export async function install(h) {
  requireWindows(h);
  const msi = path.join(h.ctx.packageDir, MSI);
  await h.run('msiexec', ['/i', msi, '/qn', '/norestart'], { accept: OK_CODES, timeoutMs: 30 * 60_000 });
  // WAPT keeps the uninstall keys of a package (DB column uninstall_key): a list of ProductCodes.
  if (PRODUCT_CODE) h.remember('uninstall_key', [PRODUCT_CODE]);
}

/** @param {import('wapt-get/hooks').Helpers} h */
export async function uninstall(h) {
  requireWindows(h);
  const keys = /** @type {string[]} */ (h.ctx.persistent.uninstall_key ?? (PRODUCT_CODE ? [PRODUCT_CODE] : []));
  if (keys.length === 0) throw new Error('no ProductCode recorded: set PRODUCT_CODE in setup.mjs');
  // 1605: "this product is not installed", already gone is fine.
  for (const key of keys) await h.run('msiexec', ['/x', key, '/qn', '/norestart'], { accept: [...OK_CODES, 1605], timeoutMs: 30 * 60_000 });
}
