// Which setup code an extracted package carries (W-A1, W-D5, X1). setup.mjs wins when
// both are present: a package may keep setup.py for WAPT clients and setup.mjs for us.
// From zip member names, the package room's setupKindOf answers the same question.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { WaptError } from '../../errors.js';
import type { SetupKind } from '../../package/index.js';

export type { SetupKind };

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** From an extracted package directory. */
export async function setupKind(dir: string): Promise<SetupKind> {
  if (await isFile(path.join(dir, 'setup.mjs'))) return 'mjs';
  if (await isFile(path.join(dir, 'setup.py'))) return 'py';
  return 'none';
}

/** Installing needs runnable setup code: Python setup.py is verified/indexed/signed but never run. */
export function assertRunnable(kind: SetupKind, pkg = 'this package'): void {
  if (kind === 'py') {
    throw new WaptError('SETUP_PY_UNSUPPORTED', `${pkg} has only setup.py (Python); wapt-get runs setup.mjs`, { detail: { package: pkg } });
  }
}
