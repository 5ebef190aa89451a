// build-package's check of msi/exe packages made from the templates: a setup.mjs that
// says `// wapt-get template: msi` (or exe) must ship the installer it names, and an msi
// one a ProductCode, or the package would build and only fail on the endpoint.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WaptError } from '../../errors.js';

const MARKER = /^\/\/ wapt-get template: (msi|exe)\b/m;
const GUID = /^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$/i;

/** The string a `const NAME = '…';` / `"…"` declaration holds; undefined when absent or not a plain literal. */
export function constString(source: string, name: string): string | undefined {
  const m = new RegExp(`^const ${name} = (?:"((?:[^"\\\\]|\\\\.)*)"|'((?:[^'\\\\]|\\\\.)*)');`, 'm').exec(source);
  if (!m) return undefined;
  if (m[1] !== undefined) return JSON.parse(`"${m[1]}"`) as string;
  return m[2]!.replace(/\\(.)/g, '$1');
}

export interface InstallerCheck {
  kind: 'msi' | 'exe';
  installer: string;
  productCode?: string;
}

/** Null when setup.mjs is not from the msi/exe templates; throws INSTALLER_MISSING otherwise when something is missing. */
export async function checkInstallerPackage(dir: string, payload: string[]): Promise<InstallerCheck | null> {
  if (!payload.includes('setup.mjs')) return null;
  const source = await readFile(join(dir, 'setup.mjs'), 'utf8');
  const kind = MARKER.exec(source)?.[1] as 'msi' | 'exe' | undefined;
  if (!kind) return null;
  const constant = kind === 'msi' ? 'MSI' : 'EXE';
  const installer = constString(source, constant);
  const missing = (what: string, detail: Record<string, unknown>): WaptError =>
    new WaptError('INSTALLER_MISSING', `${dir}: ${kind} package ${what}`, { detail: { kind, dir, ...detail } });
  if (!installer) throw missing(`names no installer: set ${constant} in setup.mjs`, { field: constant });
  const rel = installer.replace(/\\/g, '/').replace(/^\.\//, '');
  if (!payload.includes(rel)) throw missing(`does not contain its installer ${installer} (${constant} in setup.mjs)`, { installer });
  if (kind === 'exe') return { kind, installer: rel };
  const productCode = constString(source, 'PRODUCT_CODE') ?? '';
  if (!GUID.test(productCode)) {
    throw missing(`has ${productCode ? `an invalid PRODUCT_CODE ${productCode}` : 'no PRODUCT_CODE'} in setup.mjs (uninstall and install-if-needed need it)`, {
      field: 'PRODUCT_CODE',
      productCode,
    });
  }
  return { kind, installer: rel, productCode: productCode.toUpperCase() };
}
