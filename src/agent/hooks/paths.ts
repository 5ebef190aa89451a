// Path confinement shared by the helpers: a hook may write only under targetRoot
// and read only from its package directory.
import path from 'node:path';

/**
 * Maps `rel` (relative, or absolute meaning "absolute on the target system") under `root`.
 * `..` that would leave the root is refused rather than clamped: silent clamping hides bugs.
 */
export function confine(root: string, rel: string, what: string): string {
  if (rel.includes('\0')) throw new Error(`${what}: NUL byte in path`);
  const base = path.resolve(root);
  const stripped = rel.replace(/^[\\/]+/, '');
  const full = path.resolve(base, stripped);
  const back = path.relative(base, full);
  if (back === '..' || back.startsWith('..' + path.sep) || path.isAbsolute(back)) {
    throw new Error(`${what}: path escapes ${base}: ${rel}`);
  }
  return full;
}

/** Relative path with forward slashes, the way results are reported. */
export function relPosix(root: string, full: string): string {
  return path.relative(path.resolve(root), full).split(path.sep).join('/');
}
