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

const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const SURROGATE = /[\ud800-\udfff]/;

/** W-E2b: escape everything outside 0x20–0x7E (DEL included) per UTF-16 unit, lowercase hex; "/" stays. */
function quote(s: string): string {
  // Most values need no escaping at all: one regex test instead of a loop.
  if (PLAIN.test(s)) return `"${s}"`;
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

/**
 * Python sorts str keys by code point; JS's default sort uses UTF-16 units. The
 * two orders differ only where a surrogate pair is involved, so the default sort
 * is used when no key holds one (the common case, and much cheaper).
 */
function sortKeys(keys: string[]): string[] {
  return keys.some((k) => SURROGATE.test(k)) ? keys.sort(byCodePoint) : keys.sort();
}

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
      const keys = sortKeys(Object.keys(obj));
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
const INTEGER_RE = /^[+-]?[0-9]+$/;

function signedValue(fields: ControlFields, key: string): string | bigint | null {
  const v = fields.get(key);
  if (v === undefined) {
    if ((SIGNATURE_FIELDS as readonly string[]).includes(key) || !CANONICAL_ORDER.includes(key)) return null;
    return FIELD_DEFAULTS[key] ?? '';
  }
  if (INTEGER_FIELDS.includes(key) && INTEGER_RE.test(v)) return BigInt(v);
  return v;
}

/** One attribute list, ready to serialise: sorted keys with their `"key":` prefix and what an absent key stands for. */
interface KeyOrder {
  keys: string[];
  prefixes: string[];
  absent: (string | null)[];
  integer: boolean[];
}

/** Most controls share the same attribute list: its order is computed once (the last one is checked first). */
const keyOrders = new Map<string, KeyOrder>();
const KEY_ORDERS_MAX = 64;
let last: { attrs: string[]; order: KeyOrder } | null = null;

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function keyOrder(attrs: readonly string[]): KeyOrder {
  if (last && sameList(last.attrs, attrs)) return last.order;
  const id = JSON.stringify(attrs);
  let order = keyOrders.get(id);
  if (!order) {
    const keys = sortKeys([...new Set(attrs)]); // a repeated name is one JSON key, as in a dict
    const none = new Map<string, string>(); // fields without the key: signedValue's answer
    order = {
      keys,
      prefixes: keys.map((k) => `${quote(k)}:`),
      absent: keys.map((k) => signedValue(none, k) as string | null),
      integer: keys.map((k) => INTEGER_FIELDS.includes(k)),
    };
    if (keyOrders.size >= KEY_ORDERS_MAX) keyOrders.clear();
    keyOrders.set(id, order);
  }
  last = { attrs: [...attrs], order };
  return order;
}

/** W-E2: the exact bytes (as a string) covered by a control's `signature`. */
export function signedAttributesJson(fields: ControlFields, attrs: readonly string[]): string {
  const { keys, prefixes, absent, integer } = keyOrder(attrs);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out += ',';
    const v = fields.get(keys[i]!);
    // Same values as signedValue (W-C5), with the per-key facts looked up once per list.
    const value = v === undefined ? absent[i]! : integer[i] && INTEGER_RE.test(v) ? BigInt(v) : v;
    out += prefixes[i]! + pyJsonStringify(value);
  }
  return out + '}';
}

/** W-D1: the content of WAPT/manifest.sha256 for these [path, sha256-hex] pairs, in the order given. */
export function manifestJson(pairs: readonly (readonly [string, string])[]): string {
  return pyJsonStringify(pairs.map(([p, h]) => [p, h]));
}
