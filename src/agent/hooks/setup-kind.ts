// Which setup code an extracted package carries (W-A1, W-D5, X1). setup.mjs wins when
// both are present: a package may keep setup.py for WAPT clients and setup.mjs for us.
// From zip member names, the package room's setupKindOf answers the same question,
// through the same identity (foldMemberName): `SETUP.MJS` counts as code at verify, so
// it is also the file the installer runs (on Windows and macOS it is one file anyway).
import { readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { WaptError } from '../../errors.js';
import { foldMemberName, type SetupKind } from '../../package/index.js';

export type { SetupKind };

export interface SetupFile {
  kind: SetupKind;
  /** Absolute path of the setup file as extracted (null for 'none'). */
  path: string | null;
}

/**
 * From an extracted package directory (ours): the regular file whose identity is
 * setup.mjs (or setup.py), renamed to that canonical spelling when it differs, since
 * Node loads `SETUP.MJS` as no module at all. Verify refused two members with one identity.
 */
export async function findSetup(dir: string): Promise<SetupFile> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const byIdentity = new Map(entries.filter((e) => e.isFile()).map((e) => [foldMemberName(e.name), e.name]));
  for (const kind of ['mjs', 'py'] as const) {
    const canonical = `setup.${kind}`;
    const name = byIdentity.get(canonical);
    if (name === undefined) continue;
    if (name !== canonical) await rename(path.join(dir, name), path.join(dir, canonical));
    return { kind, path: path.join(dir, canonical) };
  }
  return { kind: 'none', path: null };
}

/** From an extracted package directory. */
export async function setupKind(dir: string): Promise<SetupKind> {
  return (await findSetup(dir)).kind;
}

/** Installing needs runnable setup code: Python setup.py is verified/indexed/signed but never run. */
export function assertRunnable(kind: SetupKind, pkg = 'this package'): void {
  if (kind === 'py') {
    throw new WaptError('SETUP_PY_UNSUPPORTED', `${pkg} has only setup.py (Python); wapt-get runs setup.mjs`, { detail: { package: pkg } });
  }
}
