// `make-template`: copies templates/<kind>/ to a new package directory, filling
// {{placeholders}}. The filled WAPT/control is parsed and validated before anything
// is written, and the tree is built beside the destination then renamed into place.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WaptError } from '../errors.js';
import { parseControl, validateControl } from './control.js';

export const TEMPLATE_KINDS = ['deb', 'dir', 'script', 'msi', 'exe', 'group', 'host', 'unit'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

export interface TemplateVars {
  version?: string;
  description?: string;
  maintainer?: string;
  /** Display name (control `name`); default the package name. */
  name?: string;
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
