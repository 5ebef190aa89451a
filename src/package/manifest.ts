// WAPT/manifest.sha256 (W-D1) and the members it leaves out (W-A2).
import { WaptError } from '../errors.js';
import { foldMemberName } from './zip-names.js';

export const CONTROL_MEMBER = 'WAPT/control';
export const CERTIFICATE_MEMBER = 'WAPT/certificate.crt';
export const MANIFEST_MEMBER = 'WAPT/manifest.sha256';
export const SIGNATURE_MEMBER = 'WAPT/signature.sha256';

/** W-D1/W-A2: never listed in the manifest. */
export const MANIFEST_EXCLUDED: ReadonlySet<string> = new Set([MANIFEST_MEMBER, SIGNATURE_MEMBER, 'WAPT/manifest.sha1', 'WAPT/signature']);

/**
 * W-A2: the excluded members nothing verifies (the manifest skips them and no signature
 * covers them). Verification ignores them and extraction drops them, so no unverified
 * byte reaches the disk or a hook.
 */
export const UNVERIFIED_MEMBERS: ReadonlySet<string> = new Set([...MANIFEST_EXCLUDED].filter((n) => n !== MANIFEST_MEMBER && n !== SIGNATURE_MEMBER));

/** Members that count as setup code for the code-signing rule (W-D5, X1). */
export const SETUP_MEMBERS = ['setup.py', 'setup.mjs'] as const;

export type SetupKind = 'mjs' | 'py' | 'none';

/**
 * W-D5/X1 by member identity (foldMemberName), not exact spelling: `SETUP.MJS` is
 * `setup.mjs` on Windows and macOS, so it is code too (and the hook finder runs it).
 */
export function setupKindOf(memberNames: Iterable<string>): SetupKind {
  const names = new Set([...memberNames].map(foldMemberName));
  if (names.has('setup.mjs')) return 'mjs';
  if (names.has('setup.py')) return 'py';
  return 'none';
}

/** W-D1: parse the manifest into path → sha256; malformed or repeated paths reject the package. */
export function parseManifest(bytes: Buffer, source: string): Map<string, string> {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new WaptError('MANIFEST_INVALID', `${source}: ${MANIFEST_MEMBER} is not JSON`, { cause: err });
  }
  if (!Array.isArray(data)) {
    throw new WaptError('MANIFEST_INVALID', `${source}: ${MANIFEST_MEMBER} is not a list of [path, sha256] pairs`);
  }
  const out = new Map<string, string>();
  for (const pair of data) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string' || !/^[0-9a-fA-F]{64}$/.test(pair[1])) {
      throw new WaptError('MANIFEST_INVALID', `${source}: ${MANIFEST_MEMBER} holds a malformed entry ${JSON.stringify(pair).slice(0, 120)}`);
    }
    if (out.has(pair[0])) {
      throw new WaptError('MANIFEST_INVALID', `${source}: ${MANIFEST_MEMBER} lists ${pair[0]} twice`);
    }
    out.set(pair[0], pair[1].toLowerCase());
  }
  return out;
}

export interface ManifestDiff {
  modified: string[];
  missing: string[];
  extra: string[];
}

/** W-D3: every listed member present with that hash, every member listed. */
export function compareManifest(manifest: Map<string, string>, actual: Map<string, string>): ManifestDiff {
  const diff: ManifestDiff = { modified: [], missing: [], extra: [] };
  for (const [name, sha] of manifest) {
    const got = actual.get(name);
    if (got === undefined) diff.missing.push(name);
    else if (got !== sha) diff.modified.push(name);
  }
  for (const name of actual.keys()) {
    if (!MANIFEST_EXCLUDED.has(name) && !manifest.has(name)) diff.extra.push(name);
  }
  return diff;
}

export function assertManifestMatches(manifest: Map<string, string>, actual: Map<string, string>, source: string): void {
  const d = compareManifest(manifest, actual);
  const parts: string[] = [];
  if (d.modified.length) parts.push(`modified: ${d.modified.join(', ')}`);
  if (d.missing.length) parts.push(`missing: ${d.missing.join(', ')}`);
  if (d.extra.length) parts.push(`not in manifest: ${d.extra.join(', ')}`);
  if (parts.length) {
    throw new WaptError('MANIFEST_MISMATCH', `${source}: content differs from the signed manifest (${parts.join('; ')})`, {
      detail: { file: source, ...d },
    });
  }
}
