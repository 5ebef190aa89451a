// Member-name rules for .wapt zips. Pure: no I/O. Both the reader (hostile
// input) and the writer (we never write what we would refuse to read) use them.
// W-A1: paths use `/` and are relative to the package root.

import { WaptError } from '../errors.js';

function unsafe(name: string, why: string): WaptError {
  return new WaptError('ZIP_UNSAFE_PATH', `unsafe zip member name ${JSON.stringify(name)}: ${why}`, {
    detail: { member: name, reason: why },
  });
}

/**
 * Throws ZIP_UNSAFE_PATH unless `name` is a plain relative path. Directory
 * entries end with a single `/`. Refused: `..` and `.` segments (`.` because
 * `x` and `./x` would be two manifest names for one file), absolute paths,
 * drive letters and any `:` (on Windows `a:b` writes an NTFS alternate data
 * stream and `C:x` is drive-relative), backslashes (a separator on Windows),
 * control characters including NUL, and empty segments (`a//b`).
 */
export function checkMemberName(name: string): void {
  if (name.length === 0) throw unsafe(name, 'empty name');

  if (/[\u0000-\u001f\u007f]/.test(name)) throw unsafe(name, 'control character (NUL included)');
  if (name.includes('\\')) throw unsafe(name, 'backslash');
  if (/^[A-Za-z]:/.test(name)) throw unsafe(name, 'drive letter');
  if (name.startsWith('/')) throw unsafe(name, 'absolute path');
  if (name.includes(':')) throw unsafe(name, 'colon (drive or alternate data stream on Windows)');
  const body = name.endsWith('/') ? name.slice(0, -1) : name;
  for (const segment of body.split('/')) {
    if (segment === '..') throw unsafe(name, '`..` segment');
    if (segment === '.') throw unsafe(name, '`.` segment');
    if (segment === '') throw unsafe(name, 'empty segment');
  }
}

/**
 * Code points HFS+ ignores when it compares names (git CVE-2014-9390): on such a volume
 * `set\u200Dup.mjs` IS setup.mjs, so the identity drops them too (red-team finding).
 */
const HFS_IGNORABLE = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

/**
 * A member's identity: the key under which two names land on the same file on a
 * case-insensitive, normalising file system (NTFS, APFS). Unicode NFC, case folded
 * (upper then lower, so `ſ` and `K` fold as NTFS's upcase table does), and trailing
 * dots/spaces dropped per segment (Windows ignores them), HFS+'s ignorable code points
 * dropped. The code-signing rule
 * (W-D5), the duplicate check and the hook finder all compare names through this.
 */
export function foldMemberName(name: string): string {
  const body = name.endsWith('/') ? name.slice(0, -1) : name;
  return body
    .replace(HFS_IGNORABLE, '')
    .normalize('NFC')
    .toUpperCase()
    .toLowerCase()
    .split('/')
    .map((s) => s.replace(/[. ]+$/, ''))
    .join('/');
}

/** Device names Windows reserves in every directory, with or without an extension (`nul.txt`). */
const WINDOWS_RESERVED = /^(?:con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$)(?:\.|$)/;

/**
 * W-A1 portability: throws ZIP_NONPORTABLE_NAME for a name that means a different
 * file (or none) on Windows than on Linux: a segment ending in a dot or a space
 * (Windows drops them: `setup.mjs.` is `setup.mjs`), a reserved device name
 * (CON, NUL, COM1, LPT1… also as `nul.txt`), or a character Windows refuses in
 * file names (`< > : " | ? *`). Called by verify after the code-signing rule, so a
 * deployer-signed `setup.mjs.` is refused as CODESIGNING_REQUIRED first.
 */
export function checkPortableMemberName(name: string): void {
  const body = name.endsWith('/') ? name.slice(0, -1) : name;
  for (const segment of body.split('/')) {
    let why: string | undefined;
    if (/[. ]$/.test(segment)) why = 'a segment ends with a dot or a space (Windows drops them)';
    else if (/[<>:"|?*]/.test(segment)) why = 'a character Windows refuses in file names (< > : " | ? *)';
    else if (WINDOWS_RESERVED.test(segment.replace(/ +(?=\.|$)/, '').toLowerCase())) why = `${segment} is a reserved device name on Windows`;
    if (why) {
      throw new WaptError('ZIP_NONPORTABLE_NAME', `member name ${JSON.stringify(name)} is not portable: ${why}`, {
        detail: { member: name, reason: why },
      });
    }
  }
}
