// setup.mjs of {{package}}: run by wapt-get (spec X1), never by WAPT (which runs setup.py).
// Every exported hook (install, uninstall, audit, session_setup, update_package) receives one
// helpers object `h`; see its types in wapt-get/hooks. Hooks run in their own process with
// cwd = the extracted package; a throw fails the operation and its message is shown.
// Paths given to h.copyTree/h.removeTree/h.targetPath are resolved under h.ctx.targetRoot
// ('/' on a real install, user_mode_root in user mode), and may not escape it.
// Template "exe": silent install of an .exe installer; uninstall through the command the
// installer registered under HKLM\...\Uninstall\<UNINSTALL_KEY>.
import path from 'node:path';

/** The installer inside this package. */
const EXE = '{{package}}-setup.exe';
/** Silent flags: NSIS takes /S; Inno Setup takes /VERYSILENT /SUPPRESSMSGBOXES /NORESTART. */
const SILENT = ['/S'];
/** The installer's key name under SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall. */
const UNINSTALL_KEY = '{{package}}';
const UNINSTALL_ROOT = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall';

/** @param {import('wapt-get/hooks').Helpers} h */
function requireWindows(h) {
  if (h.ctx.os !== 'win32') throw new Error(`{{package}} needs Windows (this system is ${h.ctx.os})`);
}

/**
 * Splits `"C:\Program Files\App\uninst.exe" /x` into the program and its arguments (arguments split on spaces).
 * @param {string} line
 */
function splitCommand(line) {
  const m = /^\s*"([^"]+)"\s*(.*)$/.exec(line) ?? /^\s*(\S+)\s*(.*)$/.exec(line);
  if (!m) throw new Error(`cannot read uninstall command ${JSON.stringify(line)}`);
  return { cmd: m[1], args: m[2] ? m[2].split(/\s+/) : [] };
}

/**
 * @param {import('wapt-get/hooks').Helpers} h
 * @param {string} key
 */
async function uninstallCommand(h, key) {
  for (const value of ['QuietUninstallString', 'UninstallString']) {
    const r = await h.run('reg', ['query', `${UNINSTALL_ROOT}\\${key}`, '/v', value], { accept: [0, 1] });
    const m = r.code === 0 ? /REG_(?:EXPAND_)?SZ\s+(.+)$/m.exec(r.stdout) : null;
    if (m) return { quiet: value === 'QuietUninstallString', ...splitCommand(m[1].trim()) };
  }
  return undefined;
}

/** @param {import('wapt-get/hooks').Helpers} h */
export async function install(h) {
  requireWindows(h);
  await h.run(path.join(h.ctx.packageDir, EXE), SILENT, { timeoutMs: 30 * 60_000 });
  h.remember('uninstall_key', [UNINSTALL_KEY]);
}

/** @param {import('wapt-get/hooks').Helpers} h */
export async function uninstall(h) {
  requireWindows(h);
  const keys = /** @type {string[]} */ (h.ctx.persistent.uninstall_key ?? [UNINSTALL_KEY]);
  for (const key of keys) {
    const u = await uninstallCommand(h, key);
    if (!u) {
      h.warn(`uninstall key ${key} not found: already uninstalled?`);
      continue;
    }
    await h.run(u.cmd, u.quiet ? u.args : [...u.args, ...SILENT], { timeoutMs: 30 * 60_000 });
  }
}
