// Package versions and their order (W-B1..W-B4). Pure.
import { WaptError } from '../errors.js';

export interface WaptVersion {
  /** W-B2: exactly 4 trimmed members, padded with "0" or truncated. */
  soft: string[];
  /** W-B1: the integer after the first "-", or null when there is none. */
  packaging: number | null;
  /** The version as given (trimmed). */
  raw: string;
}

// Letters, digits and a few harmless signs. Excludes whitespace and the characters
// that carry meaning in requirements and lists: ( ) < > = , and "-" (the packaging split).
const MEMBER_RE = /^[A-Za-z0-9_+~]+$/;

function invalid(s: string, why: string): WaptError {
  return new WaptError('VERSION_INVALID', `invalid version ${JSON.stringify(s)}: ${why}`, { detail: { version: s } });
}

/** W-B2: split on ".", trim members, pad with "0" / truncate to 4. */
function softMembers(soft: string): string[] {
  const members = soft.split('.').map((m) => m.trim());
  while (members.length < 4) members.push('0');
  return members.slice(0, 4);
}

/** W-B1/W-B2: parse `SOFT[-PACKAGING]`; throws VERSION_INVALID with the reason. */
export function parseVersion(s: string): WaptVersion {
  if (typeof s !== 'string') throw invalid(String(s), 'not a string');
  const raw = s.trim();
  if (raw === '') throw invalid(s, s === '' ? 'empty' : 'only whitespace');
  const dash = raw.indexOf('-');
  const softText = dash < 0 ? raw : raw.slice(0, dash);
  let packaging: number | null = null;
  if (dash >= 0) {
    const p = raw.slice(dash + 1).trim();
    if (!/^[0-9]+$/.test(p)) throw invalid(s, `packaging ${JSON.stringify(p)} after "-" must be an integer`);
    packaging = Number(p);
    if (!Number.isSafeInteger(packaging)) throw invalid(s, `packaging ${p} is too large`);
  }
  if (softText.trim() === '') throw invalid(s, 'no software version before "-"');
  const given = softText.split('.').map((m) => m.trim());
  for (const m of given) {
    if (m === '') throw invalid(s, 'empty member between dots');
    if (!MEMBER_RE.test(m)) throw invalid(s, `member ${JSON.stringify(m)} may only hold letters, digits, "_", "+" and "~"`);
  }
  return { soft: softMembers(softText), packaging, raw };
}

type Sign = -1 | 0 | 1;

function sign(n: number): Sign {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Decimal digit strings compared as integers of any size ("010" == "10"). */
function compareDigits(a: string, b: string): Sign {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return sign(x.length - y.length);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** W-B3: "rc1" → ["rc", "1", ""]; even indexes are text, odd ones digit runs. */
function naturalParts(member: string): string[] {
  const parts: string[] = [];
  let text = '';
  for (const run of member.match(/\d+|\D+/g) ?? []) {
    if (/^\d/.test(run)) {
      parts.push(text, run);
      text = '';
    } else text = run;
  }
  parts.push(text);
  return parts;
}

/** W-B3: natural comparison of two members, text case-insensitive, numbers as integers. */
export function compareMember(a: string, b: string): Sign {
  const pa = naturalParts(a);
  const pb = naturalParts(b);
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    let c: Sign;
    if (i % 2 === 1) c = compareDigits(pa[i]!, pb[i]!);
    else {
      const x = pa[i]!.toLowerCase();
      const y = pb[i]!.toLowerCase();
      c = x < y ? -1 : x > y ? 1 : 0;
    }
    if (c !== 0) return c;
  }
  return sign(pa.length - pb.length);
}

function compareMembers(a: readonly string[], b: readonly string[]): Sign {
  for (let i = 0; i < 4; i++) {
    const c = compareMember(a[i] ?? '0', b[i] ?? '0');
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * W-B3 without packaging, for dotted versions that are not package versions
 * (OS versions, min_wapt_version, W-C4). Lenient: any text, split on "." only.
 */
export function compareSoft(a: string, b: string): Sign {
  for (const s of [a, b]) {
    if (typeof s !== 'string' || s.trim() === '') throw invalid(String(s), 'empty');
  }
  return compareMembers(softMembers(a.trim()), softMembers(b.trim()));
}

/** W-B4: SOFT first, then PACKAGING, where no packaging sorts below any integer. */
export function compareVersions(a: string | WaptVersion, b: string | WaptVersion): Sign {
  const va = typeof a === 'string' ? parseVersion(a) : a;
  const vb = typeof b === 'string' ? parseVersion(b) : b;
  const c = compareMembers(va.soft, vb.soft);
  if (c !== 0) return c;
  if (va.packaging === vb.packaging) return 0;
  if (va.packaging === null) return -1;
  if (vb.packaging === null) return 1;
  return sign(va.packaging - vb.packaging);
}

/** Software part only (W-B5: a requirement without packaging ignores it). */
export function compareSoftVersions(a: WaptVersion, b: WaptVersion): Sign {
  return compareMembers(a.soft, b.soft);
}
