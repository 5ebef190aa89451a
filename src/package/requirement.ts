// Package requirements: `depends`, `conflicts` and command-line requests (W-B5, X4). Pure.
import { WaptError } from '../errors.js';
import { compareSoftVersions, compareVersions, parseVersion } from './version.js';

export type RequirementOp = '=' | '>=' | '<=' | '>' | '<';

export interface Requirement {
  /** Package name; '' for a `{uuid}` request. */
  name: string;
  /** null = any version. */
  op: RequirementOp | null;
  version: string | null;
  /** The text as given (trimmed). */
  raw: string;
  /** WAPT 2 `{package_uuid}` request: one exact signed build. */
  packageUuid?: string;
  // Filters WAPT keeps beside the request string (never parsed from it, W-C4):
  // ordered preference lists, most preferred first; absent = any.
  architecture?: string[];
  locale?: string[];
  maturity?: string[];
  targetOs?: string[];
  /** Host OS version bounds the entry must accept (compared with compareSoft). */
  minOsVersion?: string;
  maxOsVersion?: string;
}

/** Package name characters accepted by wapt-get (also used by validateControl). */
export const PACKAGE_NAME_RE = /^[A-Za-z0-9._~+-]+$/;

const NAME = '[A-Za-z0-9._~+-]+';
const VERSION = '[^\\s()<>=,]+';
// W-B5: name, name(OP VERSION) with spaces inside and before the parentheses (ours:
// trimmed), and X4's name OP VERSION shorthand.
const PAREN_RE = new RegExp(`^(${NAME})\\s*\\(\\s*([<=>]*)\\s*(${VERSION})\\s*\\)$`);
const SHORT_RE = new RegExp(`^(${NAME})\\s*(==|=|>=|<=|>|<)\\s*(${VERSION})$`);
const NAME_RE = new RegExp(`^${NAME}$`);
const UUID_RE = /^\{([0-9A-Za-z-]+)\}$/;

const OPS: Record<string, RequirementOp> = { '': '=', '=': '=', '==': '=', '>=': '>=', '<=': '<=', '>': '>', '<': '<' };

function invalid(s: string, why: string, cause?: unknown): WaptError {
  return new WaptError('REQUIREMENT_INVALID', `invalid requirement ${JSON.stringify(s)}: ${why}`, {
    detail: { requirement: s },
    cause,
  });
}

/** W-B5: parse one requirement; REQUIREMENT_INVALID names what is wrong. */
export function parseRequirement(s: string): Requirement {
  const raw = s.trim();
  if (raw === '') throw invalid(s, 'empty');
  const uuid = UUID_RE.exec(raw);
  if (uuid) return { name: '', op: null, version: null, raw, packageUuid: uuid[1]!.toLowerCase() };
  if (NAME_RE.test(raw)) return { name: raw, op: null, version: null, raw };
  const m = PAREN_RE.exec(raw) ?? SHORT_RE.exec(raw);
  if (!m) {
    if (/\(\s*[<=>]*\s*\)/.test(raw)) throw invalid(s, 'no version inside the parentheses');
    if (!/^[A-Za-z0-9._~+-]/.test(raw)) throw invalid(s, 'it must start with a package name');
    throw invalid(s, 'expected name, name(OP VERSION) or name=VERSION');
  }
  const [, name, opText, version] = m as unknown as [string, string, string, string];
  const op = OPS[opText];
  if (!op) throw invalid(s, `unknown operator ${JSON.stringify(opText)} (use =, ==, >=, <=, > or <)`);
  try {
    parseVersion(version);
  } catch (err) {
    throw invalid(s, (err as Error).message, err);
  }
  return { name, op, version, raw };
}

/** W-B5: comma-separated list; empty items are dropped, as WAPT does. */
export function parseRequirementList(s: string): Requirement[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
    .map(parseRequirement);
}

/**
 * W-B5: does `version` satisfy the requirement's version condition? A requirement
 * version without packaging compares the software part only (`x(>=1.0)` accepts 1.0-1).
 * Name and filters are not checked here.
 */
export function satisfies(version: string, req: Requirement): boolean {
  if (req.op === null || req.version === null) return true;
  const have = parseVersion(version);
  const want = parseVersion(req.version);
  const c = want.packaging === null ? compareSoftVersions(have, want) : compareVersions(have, want);
  switch (req.op) {
    case '=':
      return c === 0;
    case '>=':
      return c >= 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '<':
      return c < 0;
  }
}

/** WAPT's canonical text (`name(>=1.2)`, as `asrequirement` writes it), which WAPT can read back. */
export function formatRequirement(req: Requirement): string {
  if (req.packageUuid) return `{${req.packageUuid}}`;
  if (req.op === null || req.version === null) return req.name;
  return `${req.name}(${req.op}${req.version})`;
}
