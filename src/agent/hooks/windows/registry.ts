// A thin wrapper over reg.exe (WAPT setuphelpers registry_readstring / registry_set /
// registry_delete): argument building and the parser of `reg query` output. Pure.
import type { RegistryValue, RegistryValueType, RegistryView } from '../api.js';

const HIVES: Record<string, string> = {
  HKLM: 'HKLM',
  HKEY_LOCAL_MACHINE: 'HKLM',
  HKCU: 'HKCU',
  HKEY_CURRENT_USER: 'HKCU',
  HKCR: 'HKCR',
  HKEY_CLASSES_ROOT: 'HKCR',
  HKU: 'HKU',
  HKEY_USERS: 'HKU',
  HKCC: 'HKCC',
  HKEY_CURRENT_CONFIG: 'HKCC',
};

/** `HKEY_LOCAL_MACHINE/Software\X` → `HKLM\Software\X`; refuses a key outside the known hives. */
export function normalizeKey(key: string): string {
  const parts = key.replace(/\//g, '\\').replace(/\\+$/, '').split('\\');
  const hive = HIVES[parts[0]!.toUpperCase()];
  if (!hive) throw new Error(`registry key ${JSON.stringify(key)} must start with HKLM, HKCU, HKCR, HKU or HKCC`);
  return [hive, ...parts.slice(1).filter(Boolean)].join('\\');
}

const viewFlag = (view: RegistryView | undefined): string[] => (view === 32 ? ['/reg:32'] : view === 64 ? ['/reg:64'] : []);

export function regQueryArgs(key: string, opts: { name?: string; recursive?: boolean; view?: RegistryView } = {}): string[] {
  const name = opts.name === undefined ? [] : opts.name === '' ? ['/ve'] : ['/v', opts.name];
  return ['query', normalizeKey(key), ...name, ...(opts.recursive ? ['/s'] : []), ...viewFlag(opts.view)];
}

/** reg add data for a value: numbers in decimal, multi-strings joined by reg's \0 separator. */
function regData(value: RegistryValue['data'], type: RegistryValueType): string {
  if (type === 'REG_DWORD' || type === 'REG_QWORD') {
    const n = typeof value === 'number' || typeof value === 'bigint' ? BigInt(value) : BigInt(String(value));
    const max = type === 'REG_DWORD' ? 0xffffffffn : 0xffffffffffffffffn;
    if (n < 0n || n > max) throw new Error(`${type} value ${n} is out of range`);
    return n.toString(10);
  }
  if (type === 'REG_MULTI_SZ') {
    const items = Array.isArray(value) ? value : [String(value)];
    if (items.some((s) => s.includes('\\0') || s.includes('\0'))) throw new Error('REG_MULTI_SZ items may not contain \\0');
    return items.join('\\0');
  }
  if (type === 'REG_BINARY') {
    const hex = Buffer.isBuffer(value) ? value.toString('hex') : String(value);
    if (!/^(?:[0-9a-f]{2})*$/i.test(hex)) throw new Error('REG_BINARY data must be a Buffer or hex digits');
    return hex.toUpperCase();
  }
  return String(value);
}

export function regAddArgs(key: string, name: string, data: RegistryValue['data'], type: RegistryValueType, view?: RegistryView): string[] {
  const target = name === '' ? ['/ve'] : ['/v', name];
  return ['add', normalizeKey(key), ...target, '/t', type, '/d', regData(data, type), '/f', ...viewFlag(view)];
}

/** `name` undefined: the whole key and everything below it. */
export function regDeleteArgs(key: string, name?: string, view?: RegistryView): string[] {
  const target = name === undefined ? [] : name === '' ? ['/ve'] : ['/v', name];
  return ['delete', normalizeKey(key), ...target, '/f', ...viewFlag(view)];
}

/** One key as `reg query` printed it. Default values are named '' (reg prints a localised "(Default)"). */
export interface RegKeyDump {
  key: string;
  values: RegistryValue[];
}

const VALUE_LINE = /^ {4}(.*?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/;
const KEY_LINE = /^(HKEY_[A-Z_]+|HK[A-Z]{1,3})(\\.*)?$/;

function typedData(type: string, raw: string): RegistryValue['data'] {
  if (type === 'REG_DWORD' || type === 'REG_QWORD') {
    const n = BigInt(raw);
    return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  if (type === 'REG_MULTI_SZ') return raw === '' ? [] : raw.split('\\0');
  if (type === 'REG_BINARY') return Buffer.from(raw, 'hex');
  return raw;
}

/**
 * Parses `reg query` output: a key line (full hive name) followed by 4-space indented
 * `name    TYPE    data` lines. Values without a name (the default value) come out as
 * ''. A name containing four spaces in a row cannot be told apart and is cut there.
 */
export function parseRegQuery(stdout: string): RegKeyDump[] {
  const out: RegKeyDump[] = [];
  let current: RegKeyDump | undefined;
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const v = VALUE_LINE.exec(line);
    if (v && current) {
      const [, rawName = '', type = 'REG_SZ', data = ''] = v;
      // reg.exe prints the default value's name in brackets, localised ("(Default)", "(par défaut)").
      const name = /^\(.+\)$/.test(rawName) && !current.values.some((x) => x.name === '') ? '' : rawName;
      current.values.push({ name, type: type as RegistryValueType, data: typedData(type, data) });
      continue;
    }
    if (KEY_LINE.test(line)) {
      current = { key: line.trim(), values: [] };
      out.push(current);
    }
  }
  return out;
}

/** reg.exe exits 1 with this when the key or value does not exist (any locale: the code is what counts). */
export const REG_NOT_FOUND_EXIT = 1;
