// `make-template`: copies templates/<kind>/ to a new package directory, filling
// {{placeholders}}. The filled WAPT/control is parsed and validated before anything
// is written, and the tree is built beside the destination then renamed into place.
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WaptError } from '../errors.js';
import { parseControl, validateControl } from './control.js';
import { readExeInstaller, readMsi, type ExeInstaller, type MsiProduct } from './msi/index.js';

export const TEMPLATE_KINDS = ['deb', 'dir', 'script', 'msi', 'exe', 'group', 'host', 'unit'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

export interface TemplateVars {
  version?: string;
  description?: string;
  maintainer?: string;
  /** Display name (control `name`); default the package name. */
  name?: string;
  /** What `make-template msi|exe FILE` read from the installer (fills setup.mjs). */
  installer?: InstallerFacts;
}

/** setup.mjs constants of the msi/exe templates; absent ones keep the blank template's values. */
export interface InstallerFacts {
  /** File name of the installer inside the package. */
  file: string;
  msi?: MsiProduct;
  exe?: ExeInstaller;
}

export interface MadeTemplate {
  dir: string;
  /** Files written, relative to dir, '/'-separated, sorted. */
  files: string[];
}

const DEFAULT_VERSION = '0.1-1';

const DEFAULT_DESCRIPTION: Record<TemplateKind, string> = {
  deb: 'Debian package %s',
  dir: 'Files of %s',
  script: '%s (installed by scripts)',
  msi: '%s (MSI installer)',
  exe: '%s (silent installer)',
  group: 'Group of packages %s',
  host: 'Packages of host %s',
  unit: 'Packages of unit %s',
};

/** templates/ of the installed wapt-get: ../../templates from both src/package and dist/package. */
export function templatesDir(): string {
  return fileURLToPath(new URL('../../templates/', import.meta.url));
}

export function isTemplateKind(kind: string): kind is TemplateKind {
  return (TEMPLATE_KINDS as readonly string[]).includes(kind);
}

/** Replaces {{key}}; a placeholder without a value is a bug in the template, not user input. */
export function fillPlaceholders(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{([a-z_]+)\}\}/g, (_m, key: string) => {
    const v = values[key];
    if (v === undefined) throw new WaptError('INTERNAL', `template placeholder {{${key}}} has no value`);
    return v;
  });
}

function placeholderValues(kind: TemplateKind, pkg: string, vars: TemplateVars): Record<string, string> {
  const values: Record<string, string> = {
    package: pkg,
    version: vars.version ?? DEFAULT_VERSION,
    name: vars.name ?? pkg,
    maintainer: vars.maintainer ?? '',
    description: vars.description ?? DEFAULT_DESCRIPTION[kind].replace('%s', pkg),
    // setup.mjs constants of the msi/exe templates, as JS string literals (JSON is valid JS).
    msi_file: JSON.stringify(vars.installer?.file ?? `${pkg}.msi`),
    product_code: JSON.stringify(vars.installer?.msi?.productCode ?? ''),
    product_version: JSON.stringify(vars.installer?.msi?.productVersion ?? ''),
    exe_file: JSON.stringify(vars.installer?.file ?? `${pkg}-setup.exe`),
    silent_args: JSON.stringify(vars.installer?.exe?.silentArgs ?? ['/S']),
    installer_kind: vars.installer?.exe ? exeKindText(vars.installer.exe) : 'not yet (NSIS /S assumed; Inno Setup: /VERYSILENT /SUPPRESSMSGBOXES /NORESTART)',
    uninstall_key: JSON.stringify(pkg),
  };
  for (const [key, v] of Object.entries(values)) {
    // One control line per value (W-C1): a newline would start a new field or a continuation.
    if (/[\r\n]/.test(v)) throw new WaptError('CONTROL_INVALID', `${key} may not contain a line break`, { detail: { field: key } });
    values[key] = v.trim();
  }
  return values;
}

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, r)));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

async function assertUsableDest(destDir: string): Promise<void> {
  if (!existsSync(destDir)) return;
  const st = await stat(destDir);
  if (!st.isDirectory() || (await readdir(destDir)).length > 0) {
    throw new WaptError('USAGE', `${destDir} already exists and is not an empty directory; choose another --dir`, { detail: { path: destDir } });
  }
}

export async function makeTemplate(kind: string, pkg: string, destDir: string, vars: TemplateVars = {}): Promise<MadeTemplate> {
  if (!isTemplateKind(kind)) {
    throw new WaptError('USAGE', `unknown template kind ${JSON.stringify(kind)}; use one of ${TEMPLATE_KINDS.join(', ')}`, { detail: { kind } });
  }
  const src = path.join(templatesDir(), kind);
  const values = placeholderValues(kind, pkg, vars);
  // W-C1: no trailing newline; validate before touching the disk (bad name or version → clear error).
  const control = fillPlaceholders(await readFile(path.join(src, 'WAPT', 'control'), 'utf8'), values).replace(/\n+$/, '');
  validateControl(parseControl(control, { source: `templates/${kind}/WAPT/control` }));

  const dest = path.resolve(destDir);
  await assertUsableDest(dest);
  await mkdir(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
  const files = await listFiles(src);
  try {
    for (const rel of files) {
      const from = path.join(src, rel);
      const to = path.join(tmp, rel);
      await mkdir(path.dirname(to), { recursive: true });
      const text = rel === 'WAPT/control' ? control : fillPlaceholders(await readFile(from, 'utf8'), values);
      await writeFile(to, text);
      await chmod(to, (await stat(from)).mode & 0o777); // keeps scripts executable
    }
    if (existsSync(dest)) await rmdir(dest); // empty, checked above
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return { dir: dest, files };
}

function exeKindText(e: ExeInstaller): string {
  return e.kind === 'unknown' ? 'no known installer marker; set the switches by hand' : `${e.kind} (marker "${e.marker}")`;
}

/** `Tiny Démo Tool` → `tiny-demo-tool`: the package-name part derived from a product name. */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export interface FromInstallerOptions extends TemplateVars {
  /** Package name; default `<prefix>-<product name>`. */
  packageName?: string;
  /** Default 'tis' (WAPT default_package_prefix). */
  prefix?: string;
  /** Default ./<package>-wapt beside cwd. */
  destDir?: string;
  cwd: string;
}

export interface MadeFromInstaller extends MadeTemplate {
  package: string;
  installer: InstallerFacts;
}

/**
 * `make-template msi FILE.msi` / `make-template exe FILE.exe`: reads the installer
 * (MSI Property table; exe framework markers), makes the template with what it found,
 * and copies the installer into the package.
 */
export async function makeTemplateFromInstaller(kind: 'msi' | 'exe', file: string, opts: FromInstallerOptions): Promise<MadeFromInstaller> {
  const abs = path.resolve(opts.cwd, file);
  const st = await stat(abs).catch(() => null);
  if (!st?.isFile()) throw new WaptError('IO_ERROR', `${file}: no such installer file`, { detail: { path: abs } });
  const base = path.basename(abs);
  let installer: InstallerFacts;
  let productName: string;
  let version = opts.version;
  let description = opts.description;
  if (kind === 'msi') {
    const msi = readMsi(await readFile(abs), base);
    installer = { file: base, msi };
    productName = msi.productName;
    version ??= `${msi.productVersion}-1`;
    description ??= `${msi.productName} (${msi.manufacturer}), MSI installer`;
  } else {
    installer = { file: base, exe: await readExeInstaller(abs) };
    productName = base.replace(/\.exe$/i, '').replace(/[-_ ]?(setup|installer|install)$/i, '');
    description ??= `${productName} (${installer.exe!.kind === 'unknown' ? 'silent installer' : `${installer.exe!.kind} installer`})`;
  }
  const pkg = opts.packageName ?? `${opts.prefix ?? 'tis'}-${slugify(productName) || 'app'}`;
  const dest = path.resolve(opts.cwd, opts.destDir ?? `${pkg}-wapt`);
  const made = await makeTemplate(kind, pkg, dest, { ...opts, version, description, name: opts.name ?? productName, installer });
  try {
    await copyFile(abs, path.join(made.dir, base));
  } catch (e) {
    await rm(made.dir, { recursive: true, force: true });
    throw e;
  }
  return { ...made, files: [...made.files, base].sort(), package: pkg, installer };
}
