// Python's json.dumps(v, sort_keys=True, separators=(',', ':')) with ASCII escaping,
// byte for byte: the signed control content (W-E2, W-E2b) and the manifest (W-D1). Pure.
import { WaptError } from '../errors.js';
import { CANONICAL_ORDER, FIELD_DEFAULTS, INTEGER_FIELDS, SIGNATURE_FIELDS } from './control-fields.js';
import type { ControlFields } from './control.js';

const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x5c: '\\\\',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x08: '\\b',
  0x0c: '\\f',
};

/** W-E2b: escape everything outside 0x20–0x7E (DEL included) per UTF-16 unit, lowercase hex; "/" stays. */
function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const short = SHORT_ESCAPES[c];
    if (short !== undefined) out += short;
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += s[i];
  }
  return out + '"';
}

/** Python sorts str keys by code point; JS's default sort uses UTF-16 units. */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (ch) => ch.codePointAt(0)!);
  const y = Array.from(b, (ch) => ch.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}

function unsupported(what: string): WaptError {
  return new WaptError('INTERNAL', `pyJsonStringify: cannot serialise ${what} the way Python does`);
}

/**
 * Strings, integers (number or bigint), booleans, null, arrays and plain objects.
 * Non-integer numbers are refused: Python's float repr differs from JavaScript's.
 */
export function pyJsonStringify(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isSafeInteger(value)) throw unsupported(`the number ${value}`);
      return String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(pyJsonStringify).join(',')}]`;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw unsupported('a non-plain object');
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort(byCodePoint);
      return `{${keys.map((k) => `${quote(k)}:${pyJsonStringify(obj[k])}`).join(',')}}`;
    }
    default:
      throw unsupported(`a ${typeof value}`);
  }
}

/**
 * W-C5: the JSON value of one attribute as WAPT holds it after reading a control:
 * integers for installed_size/size holding an integer; for an absent attribute, WAPT's
 * default (W-C3 for required ones, '' for other canonical ones) and null for the
 * signature attributes and keys WAPT does not know.
 */
function signedValue(fields: ControlFields, key: string): string | bigint | null {
  const v = fields.get(key);
  if (v === undefined) {
    if ((SIGNATURE_FIELDS as readonly string[]).includes(key) || !CANONICAL_ORDER.includes(key)) return null;
    return FIELD_DEFAULTS[key] ?? '';
  }
  if (INTEGER_FIELDS.includes(key) && /^[+-]?[0-9]+$/.test(v)) return BigInt(v);
  return v;
}

/** W-E2: the exact bytes (as a string) covered by a control's `signature`. */
export function signedAttributesJson(fields: ControlFields, attrs: readonly string[]): string {
  const obj: Record<string, string | bigint | null> = Object.create(null); // no __proto__ surprises
  for (const a of attrs) obj[a] = signedValue(fields, a);
  return pyJsonStringify(obj);
}

/** W-D1: the content of WAPT/manifest.sha256 for these [path, sha256-hex] pairs, in the order given. */
export function manifestJson(pairs: readonly (readonly [string, string])[]): string {
  return pyJsonStringify(pairs.map(([p, h]) => [p, h]));
}
