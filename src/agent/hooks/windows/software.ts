// The Uninstall registry keys (WAPT setuphelpers installed_softwares / uninstall_cmd):
// where to look, how to read an entry, and how to uninstall one silently. Pure.
import type { InstalledSoftware, RegistryValue, RegistryView } from '../api.js';
import { splitProgram } from './cmdline.js';
import { isProductCode } from './msi.js';
import type { RegKeyDump } from './registry.js';

export const UNINSTALL_KEY = 'SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall';

/** Both HKLM views (64-bit native, 32-bit WOW6432Node), then the user's own installs. */
export const UNINSTALL_SOURCES: { hive: 'HKLM' | 'HKCU'; view: RegistryView }[] = [
  { hive: 'HKLM', view: 64 },
  { hive: 'HKLM', view: 32 },
  { hive: 'HKCU', view: 64 },
];

const str = (values: RegistryValue[], name: string): string => {
  const v = values.find((x) => x.name.toLowerCase() === name.toLowerCase());
  return v === undefined ? '' : Array.isArray(v.data) ? v.data.join(',') : Buffer.isBuffer(v.data) ? '' : String(v.data);
};

/** Entries of one `reg query <Uninstall> /s` dump; keys without a DisplayName are not software (WAPT skips them too). */
export function softwareFromDump(dump: RegKeyDump[], hive: 'HKLM' | 'HKCU', view: RegistryView): InstalledSoftware[] {
  const out: InstalledSoftware[] = [];
  for (const k of dump) {
    const m = /\\Uninstall\\([^\\]+)$/i.exec(k.key);
    const name = str(k.values, 'DisplayName');
    if (!m || name === '') continue;
    out.push({
      key: m[1]!,
      name,
      version: str(k.values, 'DisplayVersion'),
      publisher: str(k.values, 'Publisher'),
      uninstallString: str(k.values, 'UninstallString'),
      quietUninstallString: str(k.values, 'QuietUninstallString'),
      installLocation: str(k.values, 'InstallLocation'),
      installDate: str(k.values, 'InstallDate'),
      msi: str(k.values, 'WindowsInstaller') === '1',
      systemComponent: str(k.values, 'SystemComponent') === '1',
      view,
      hive,
    });
  }
  return out;
}

/** On 32-bit Windows both views are the same keys: keep one entry per hive, key, name and version. */
export function dedupeSoftware(list: InstalledSoftware[]): InstalledSoftware[] {
  const seen = new Set<string>();
  return list.filter((s) => {
    const id = `${s.hive}|${s.key.toLowerCase()}|${s.name}|${s.version}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** Matches a ProductCode or subkey name case-insensitively, else an exact DisplayName. */
export function findSoftware(list: InstalledSoftware[], nameOrCode: string): InstalledSoftware[] {
  const lower = nameOrCode.toLowerCase();
  const byKey = list.filter((s) => s.key.toLowerCase() === lower);
  return byKey.length > 0 ? byKey : list.filter((s) => s.name === nameOrCode);
}

/** How to uninstall one entry silently. */
export type UninstallPlan =
  { kind: 'msi'; productCode: string } | { kind: 'command'; program: string; rest: string; silentAdded: string[] } | { kind: 'unknown'; reason: string };

const INNO_SILENT = ['/VERYSILENT', '/SUPPRESSMSGBOXES', '/NORESTART'];
const NSIS_SILENT = ['/S'];

export function uninstallPlan(s: InstalledSoftware, silentArgs?: string[]): UninstallPlan {
  const msiCode = /msiexec(?:\.exe)?"?\s+\/[IX]\s*(\{[0-9A-F-]{36}\})/i.exec(s.uninstallString)?.[1];
  if (s.msi && isProductCode(s.key)) return { kind: 'msi', productCode: s.key };
  if (msiCode) return { kind: 'msi', productCode: msiCode };
  if (s.quietUninstallString) return { kind: 'command', ...splitProgram(s.quietUninstallString), silentAdded: [] };
  if (!s.uninstallString) return { kind: 'unknown', reason: `${s.name} (${s.key}) has no UninstallString` };
  const { program, rest } = splitProgram(s.uninstallString);
  const base = program.split(/[\\/]/).pop()!.toLowerCase();
  const silent = silentArgs ?? (/^unins\d{3}\.exe$/.test(base) ? INNO_SILENT : /^(uninst|uninstall)[^\\/]*\.exe$/.test(base) ? NSIS_SILENT : undefined);
  if (!silent) {
    return { kind: 'unknown', reason: `${s.name} (${s.key}): no QuietUninstallString and ${base} is not a known uninstaller; pass silentArgs` };
  }
  return { kind: 'command', program, rest: [rest, ...silent].filter(Boolean).join(' '), silentAdded: silent };
}
