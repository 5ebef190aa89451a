// setup.mjs of {{package}}: run by wapt-get (spec X1), never by WAPT (which runs setup.py).
// Every exported hook (install, uninstall, audit, session_setup, update_package) receives one
// helpers object `h`; see its types in wapt-get/hooks. Hooks run in their own process with
// cwd = the extracted package; a throw fails the operation and its message is shown.
// Paths given to h.copyTree/h.removeTree/h.targetPath are resolved under h.ctx.targetRoot
// ('/' on a real install, user_mode_root in user mode), and may not escape it.
// Template "script": runs shell scripts shipped in scripts/ on install and uninstall.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** @param {import('wapt-get/hooks').Helpers} h */
function scriptEnv(h) {
  return {
    WAPT_TARGET_ROOT: h.ctx.targetRoot,
    WAPT_PACKAGE: h.ctx.package,
    WAPT_VERSION: h.ctx.version,
    WAPT_PACKAGE_DIR: h.ctx.packageDir,
  };
}

/** @param {import('wapt-get/hooks').Helpers} h */
export async function install(h) {
  await h.run('sh', [path.join(h.ctx.packageDir, 'scripts', 'install.sh')], { env: scriptEnv(h), timeoutMs: 10 * 60_000 });
  // Keep the uninstall script's text: uninstall may run after the package cache was cleaned.
  h.remember('uninstall_sh', await readFile(path.join(h.ctx.packageDir, 'scripts', 'uninstall.sh'), 'utf8'));
}

/** @param {import('wapt-get/hooks').Helpers} h */
export async function uninstall(h) {
  const script = h.ctx.persistent.uninstall_sh;
  if (typeof script !== 'string') throw new Error('no uninstall script was recorded at install time');
  await h.run('sh', ['-c', script, 'uninstall.sh'], { env: scriptEnv(h), cwd: h.ctx.targetRoot, timeoutMs: 10 * 60_000 });
}
