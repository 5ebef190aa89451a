// setup.mjs of {{package}}: run by wapt-get (spec X1), never by WAPT (which runs setup.py).
// Every exported hook (install, uninstall, audit, session_setup, update_package) receives one
// helpers object `h`; see its types in wapt-get/hooks. Hooks run in their own process with
// cwd = the extracted package; a throw fails the operation and its message is shown.
// Paths given to h.copyTree/h.removeTree/h.targetPath are resolved under h.ctx.targetRoot
// ('/' on a real install, user_mode_root in user mode), and may not escape it.
// Template "dir": deploys the files/ directory of the package to TARGET.
import { existsSync } from 'node:fs';

/** Where files/ is deployed (on the target system). */
const TARGET = '/opt/{{package}}';

/** @param {import('wapt-get/hooks').Helpers} h */
export async function install(h) {
  const files = await h.copyTree('files', TARGET);
  // Remembered values come back in h.ctx.persistent for uninstall and audit,
  // even after the package cache is gone.
  h.remember('target', TARGET);
  h.remember('files', files);
  h.log(`{{package}}: deployed ${files.length} file(s) to ${h.targetPath(TARGET)}`);
}

/** @param {import('wapt-get/hooks').Helpers} h */
export async function uninstall(h) {
  const target = /** @type {string} */ (h.ctx.persistent.target ?? TARGET);
  await h.removeTree(target);
  h.log(`{{package}}: removed ${h.targetPath(target)}`);
}

/**
 * @param {import('wapt-get/hooks').Helpers} h
 * @returns {import('wapt-get/hooks').AuditResult}
 */
export function audit(h) {
  const files = /** @type {string[]} */ (h.ctx.persistent.files ?? []);
  const missing = files.filter((f) => !existsSync(h.targetPath(f)));
  for (const f of missing) h.warn(`missing: ${f}`);
  return missing.length === 0 ? 'OK' : 'ERROR';
}
