// The checks a control must pass wherever it enters: build-package, verify, scanpackages
// (the entry is left out) and update (the entry is rejected). One function, asked by all,
// so that no entry point can accept what another refuses. Pure.
import { WaptError } from '../errors.js';
import type { ControlFields } from './control.js';

/**
 * Characters Python's str.splitlines() (WAPT's control reader) breaks lines at, besides
 * \n and \r: \v \f \x1c \x1d \x1e \x85 U+2028 U+2029. Inside a value they would make a
 * WAPT reader see lines we never signed, e.g. an injected `depends:` (W-C1).
 */
export const PYTHON_LINE_BREAKS = /[\v\f\x1c-\x1e\x85\u2028\u2029]/;

function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).padStart(4, '0').toUpperCase()}`;
}

/**
 * Why `name` cannot be a package name, or undefined. A package name becomes a path
 * segment (cache, hook directory, bundle member) and a key in the local DB, so a name
 * holding `/`, `\`, `..` or a control character, or an empty or dot-only one, is refused
 * (W-A3, W-B5; stricter than WAPT on purpose, X4).
 */
export function unsafePackageNameReason(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.startsWith('/')) return 'starts with "/"';
  if (name.includes('/') || name.includes('\\')) return 'holds a path separator ("/" or "\\")';
  if (name.includes('..')) return 'holds ".."';
  if (/^\.+$/.test(name)) return 'is only dots';
  if (/[\x00-\x1f\x7f]/.test(name)) return 'holds a control character';
  return undefined;
}

/**
 * W-C1 + name rule: refuses a control a WAPT reader would read differently from what was
 * signed (a key or value holding a Python line break) or whose package name is a path.
 * Throws CONTROL_UNSAFE naming the field; `source` names the file or index entry.
 */
export function checkControlSafety(fields: ControlFields, source = 'control'): void {
  for (const [key, value] of fields) {
    const m = PYTHON_LINE_BREAKS.exec(key) ?? PYTHON_LINE_BREAKS.exec(value);
    if (m) {
      throw new WaptError('CONTROL_UNSAFE', `${source}: field ${JSON.stringify(key)} holds ${codePoint(m[0])}, which WAPT reads as a line break (W-C1)`, {
        detail: { source, field: key, char: codePoint(m[0]), rule: 'W-C1' },
      });
    }
  }
  const name = fields.get('package') ?? '';
  const why = unsafePackageNameReason(name);
  if (why !== undefined) {
    throw new WaptError('CONTROL_UNSAFE', `${source}: package name ${JSON.stringify(name)} ${why}`, {
      detail: { source, field: 'package', package: name, rule: 'W-A3' },
    });
  }
}
