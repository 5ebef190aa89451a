// WAPT/control text: parse, validate, serialise (W-C1..W-C3). Pure.
import { WaptError, isWaptError } from '../errors.js';
import { ALWAYS_WRITTEN_FIELDS, CANONICAL_ORDER, FIELD_DEFAULTS, INDEX_ONLY_FIELDS, SECTIONS } from './control-fields.js';
import { checkControlSafety } from './control-safety.js';
import { PACKAGE_NAME_RE, parseRequirementList } from './requirement.js';
import { parseVersion } from './version.js';

/** Keys lowercase; insertion order = the order read. Values are always strings (W-C5 applies in JSON only). */
export type ControlFields = Map<string, string>;

export interface ParseControlOptions {
  /** Named in error messages (a path, or "Packages entry 3"). */
  source?: string;
}

function parseError(why: string, line: number, key: string, source?: string): WaptError {
  const where = `${source ?? 'control'}:${line}`;
  return new WaptError('CONTROL_PARSE', `${where}: ${why}`, { detail: { line, field: key, source } });
}

/**
 * W-C1: `key: value` lines; a line starting with a space continues the previous
 * value (stripped, joined with "\n"); reading stops at the first empty or
 * whitespace-only line. Keys are lowercased and unknown keys kept. Stricter than
 * WAPT (which lets the last duplicate win): a repeated key is an error.
 */
export function parseControl(text: string, opts: ParseControlOptions = {}): ControlFields {
  const fields: ControlFields = new Map();
  const lines = text.split(/\r\n|\n|\r/);
  let current: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const lineNo = i + 1;
    if (line.trim() === '') break;
    if (line.startsWith(' ')) {
      if (current === null) throw parseError('continuation line with no field before it', lineNo, '', opts.source);
      fields.set(current, `${fields.get(current)}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) throw parseError(`expected "key: value", got ${JSON.stringify(line.slice(0, 60))}`, lineNo, '', opts.source);
    const key = line.slice(0, colon).trim().toLowerCase();
    if (key === '') throw parseError('line has no field name before ":"', lineNo, '', opts.source);
    if (fields.has(key)) throw parseError(`field "${key}" appears twice`, lineNo, key, opts.source);
    fields.set(key, line.slice(colon + 1).trim());
    current = key;
  }
  return fields;
}

/** The value of `key`, '' when absent. */
export function field(fields: ControlFields, key: string): string {
  return fields.get(key.toLowerCase()) ?? '';
}

/** W-C3: a copy where absent or empty architecture/section/priority take their defaults. Never sign this copy. */
export function withDefaults(fields: ControlFields): ControlFields {
  const out = new Map(fields);
  for (const [k, v] of Object.entries(FIELD_DEFAULTS)) {
    if (!out.get(k)) out.set(k, v);
  }
  return out;
}

export function controlFromObject(obj: Record<string, string>): ControlFields {
  const out: ControlFields = new Map();
  for (const [k, v] of Object.entries(obj)) out.set(k.toLowerCase(), String(v));
  return out;
}

function invalidField(key: string, why: string): WaptError {
  return new WaptError('CONTROL_INVALID', `control field "${key}": ${why}`, { detail: { field: key } });
}

/** What a control must hold to be built or installed (W-C2, W-C3, W-B1, W-B5). */
export function validateControl(fields: ControlFields): void {
  for (const key of ['package', 'version']) {
    if (field(fields, key) === '') throw invalidField(key, 'is missing or empty');
  }
  const name = field(fields, 'package');
  // Host packages are named by UUID or FQDN; both fit this set.
  if (!PACKAGE_NAME_RE.test(name)) {
    throw invalidField('package', `${JSON.stringify(name)} may only hold letters, digits and . _ ~ + -`);
  }
  checkControlSafety(fields); // the same line-break and name rules verify, scan and update apply
  try {
    parseVersion(field(fields, 'version'));
  } catch (err) {
    if (!isWaptError(err)) throw err;
    throw new WaptError('VERSION_INVALID', `control field "version": ${err.message}`, {
      cause: err,
      detail: { field: 'version', version: field(fields, 'version') },
    });
  }
  const section = field(fields, 'section');
  if (section !== '' && !(SECTIONS as readonly string[]).includes(section)) {
    throw invalidField('section', `${JSON.stringify(section)} is not one of ${SECTIONS.join(', ')}`);
  }
  for (const key of ['depends', 'conflicts']) {
    try {
      parseRequirementList(field(fields, key));
    } catch (err) {
      if (!isWaptError(err)) throw err;
      throw new WaptError('REQUIREMENT_INVALID', `control field "${key}": ${err.message}`, { cause: err, detail: { field: key } });
    }
  }
}

export interface SerializeControlOptions {
  /** Append filename, size, md5sum, sha256 (non-empty ones) for a `Packages` entry (W-F1). */
  withIndexFields?: boolean;
  /**
   * Keep keys that are neither canonical nor index-only, after the canonical ones in
   * their read order. WAPT drops them (they are never signed), so the default is false.
   */
  withUnknownFields?: boolean;
}

/** W-C1: a space after every "\n" that is followed by a non-whitespace character, as WAPT writes it. */
function escapeValue(v: string): string {
  return v.includes('\n') ? v.replace(/\n(?=\S)/g, '\n ') : v;
}

/** `key<padding>: ` for every key seen; an index serialises the same ~47 keys thousands of times. */
const linePrefixes = new Map<string, string>();

function line(key: string, value: string): string {
  let prefix = linePrefixes.get(key);
  if (prefix === undefined) {
    prefix = `${key.padEnd(18)}: `;
    if (linePrefixes.size < 1024) linePrefixes.set(key, prefix);
  }
  return prefix + escapeValue(value);
}

const ALWAYS_WRITTEN = new Set(ALWAYS_WRITTEN_FIELDS);

/**
 * W-C1/W-C2 as WAPT's `ascontrol`: every canonical attribute except `signature` is
 * written even when empty (absent ones take their W-C3 default), `signature` only
 * when set; then, for an index, the non-empty index-only attributes. No trailing newline.
 */
export function serializeControl(fields: ControlFields, opts: SerializeControlOptions = {}): string {
  const out: string[] = [];
  for (const key of CANONICAL_ORDER) {
    const value = fields.get(key) ?? FIELD_DEFAULTS[key] ?? '';
    if (value !== '' || ALWAYS_WRITTEN.has(key)) out.push(line(key, value));
  }
  if (opts.withUnknownFields) {
    const known = new Set<string>([...CANONICAL_ORDER, ...INDEX_ONLY_FIELDS]);
    for (const [key, value] of fields) {
      if (!known.has(key) && value !== '') out.push(line(key, value));
    }
  }
  if (opts.withIndexFields) {
    for (const key of INDEX_ONLY_FIELDS) {
      const value = fields.get(key) ?? '';
      if (value !== '') out.push(line(key, value));
    }
  }
  return out.join('\n');
}
