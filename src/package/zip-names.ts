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
 * The key under which two names land on the same file on a case-insensitive,
 * normalising file system (NTFS, APFS): Unicode NFC, lowercase, and trailing
 * dots/spaces dropped per segment (Windows ignores them).
 */
export function foldMemberName(name: string): string {
  const body = name.endsWith('/') ? name.slice(0, -1) : name;
  return body
    .normalize('NFC')
    .toLowerCase()
    .split('/')
    .map((s) => s.replace(/[. ]+$/, ''))
    .join('/');
}
