// Package source directories as the packager edits them: unpack a verified package
// into one (duplicate, edit), rename it, change its depends/conflicts, bump its
// version. Pure apart from reading and writing WAPT/control in the given directory.
import { mkdtemp, copyFile, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WaptError } from '../errors.js';
import type { TrustStore } from '../crypto/index.js';
import { parseControl, serializeControl, validateControl, field, type ControlFields } from './control.js';
import { INDEX_ONLY_FIELDS, SIGNATURE_FIELDS } from './control-fields.js';
import { CONTROL_MEMBER, MANIFEST_EXCLUDED, CERTIFICATE_MEMBER } from './manifest.js';
import { PACKAGE_NAME_RE, parseRequirementList, formatRequirement } from './requirement.js';
import { parseVersion } from './version.js';
import { verifyPackage, type VerifiedPackage } from './verify.js';
import { PackageZip } from './zip-reader.js';
import { extractPackage } from './zip-extract.js';

/** Members that signing regenerates: a source directory never holds them. */
const REGENERATED = new Set([CERTIFICATE_MEMBER, ...MANIFEST_EXCLUDED]);

/**
 * Verifies `file` against `trust` and unpacks the very bytes that were verified into
 * the empty directory `dest` (a private copy is verified, then extracted: nobody can
 * swap the file between the two). Signature and manifest members are left out.
 */
export async function unpackVerified(file: string, dest: string, opts: { trust: TrustStore; at?: Date }): Promise<VerifiedPackage> {
  const priv = await mkdtemp(join(tmpdir(), 'wapt-get-src-'));
  try {
    await chmod(priv, 0o700);
    const copy = join(priv, 'package.wapt');
    await copyFile(file, copy);
    const verified = await verifyPackage(copy, { trust: opts.trust, at: opts.at });
    const zip = await PackageZip.open(copy);
    try {
      await extractPackage(zip, dest, { exclude: (name) => REGENERATED.has(name) });
    } finally {
      await zip.close();
    }
    // The unpacked control still carries the old signature: drop it so the source reads as unsigned.
    await editSourceControl(dest, (c) => c);
    return { ...verified, file };
  } finally {
    await rm(priv, { recursive: true, force: true });
  }
}

export async function readControlFile(dir: string): Promise<ControlFields> {
  const path = join(dir, CONTROL_MEMBER);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new WaptError('CONTROL_PARSE', `${path}: cannot read the control file`, { cause: err, detail: { file: path } });
  }
  return parseControl(text, { source: path });
}

/**
 * Rewrites `<dir>/WAPT/control` through `edit`: signature and index fields are dropped
 * (they belong to a signed build, not to a source), the result is validated (W-C2).
 */
export async function editSourceControl(dir: string, edit: (c: ControlFields) => ControlFields): Promise<{ before: ControlFields; after: ControlFields }> {
  const before = await readControlFile(dir);
  const draft: ControlFields = new Map(before);
  for (const k of [...SIGNATURE_FIELDS, ...INDEX_ONLY_FIELDS]) draft.delete(k);
  const after = edit(draft);
  validateControl(after);
  await writeFile(join(dir, CONTROL_MEMBER), serializeControl(after, { withUnknownFields: true }), 'utf8');
  return { before, after };
}

/** W-B1: the name a package may carry (checked before anything is written). */
export function assertPackageName(name: string): void {
  if (!PACKAGE_NAME_RE.test(name) || name.includes('/') || name.includes('\\') || name.includes('..')) {
    throw new WaptError('CONTROL_INVALID', `${JSON.stringify(name)} is not a valid package name (letters, digits, '-', '_', '.', '~'; W-B1)`, {
      detail: { field: 'package', value: name },
    });
  }
}

/**
 * The naming convention `<prefix>-<name>`: a new name without a prefix takes `prefix`;
 * `tis-firefox` duplicated as `acme-firefox` keeps the name given.
 */
export function prefixedName(newName: string, prefix: string): string {
  const name = newName.includes('-') || prefix === '' ? newName : `${prefix}-${newName}`;
  assertPackageName(name);
  return name;
}

/** SOFT-PACKAGING with the packaging number raised by one (1.2-3 → 1.2-4; 1.2 → 1.2-1). */
export function bumpPackaging(version: string): string {
  const v = parseVersion(version);
  const dash = version.lastIndexOf('-');
  if (dash < 0 || v.packaging === null) return `${version}-1`;
  return `${version.slice(0, dash)}-${v.packaging + 1}`;
}

export interface RequirementEdits {
  addDepends?: string[];
  removeDepends?: string[];
  addConflicts?: string[];
  removeConflicts?: string[];
}

export interface ListDiff {
  field: 'depends' | 'conflicts';
  added: string[];
  removed: string[];
}

/** Adds and removes names in a comma-separated requirement list; removal matches by package name. */
function editList(current: string, add: string[], remove: string[]): { value: string; added: string[]; removed: string[] } {
  const reqs = current.trim() === '' ? [] : parseRequirementList(current);
  const removeSet = new Set(remove.map((r) => parseRequirementList(r)[0]?.name ?? r));
  const kept = reqs.filter((r) => !removeSet.has(r.name));
  const removed = reqs.filter((r) => removeSet.has(r.name)).map(formatRequirement);
  const added: string[] = [];
  for (const a of add) {
    for (const req of parseRequirementList(a)) {
      if (kept.some((k) => k.name === req.name)) continue;
      kept.push(req);
      added.push(formatRequirement(req));
    }
  }
  return { value: kept.map(formatRequirement).join(','), added, removed };
}

/** Applies depends/conflicts edits to a control draft; returns the change of each list. */
export function applyRequirementEdits(c: ControlFields, edits: RequirementEdits): ListDiff[] {
  const diffs: ListDiff[] = [];
  for (const [key, add, remove] of [
    ['depends', edits.addDepends ?? [], edits.removeDepends ?? []],
    ['conflicts', edits.addConflicts ?? [], edits.removeConflicts ?? []],
  ] as const) {
    if (add.length === 0 && remove.length === 0) continue;
    for (const name of [...add, ...remove].flatMap((s) => parseRequirementList(s).map((r) => r.name))) assertPackageName(name);
    const r = editList(field(c, key), add, remove);
    c.set(key, r.value);
    diffs.push({ field: key, added: r.added, removed: r.removed });
  }
  return diffs;
}
