// W-C4: which index entries this host may install, and why not. Pure.
import type { Candidate, Eligibility, Environment } from './types.js';
import { field, compareSoft, parseVersion, type Requirement } from '../../package/index.js';

const OK: Eligibility = { ok: true };
const no = (reason: string): Eligibility => ({ ok: false, reason });

/** Comma list, trimmed, lowercased, empties dropped (W-C2 list fields). */
export function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

const isAny = (items: string[]): boolean => items.length === 0 || items.includes('all');

/**
 * W-C3/W-C4 maturity: an empty list accepts everything (WAPT: `maturities` empty = all);
 * an entry without maturity counts as PROD, so it is accepted when the list holds '' or PROD
 * (WAPT's PackageRequest.is_matched_by does the same).
 */
export function maturityAccepted(maturity: string, accepted: string[]): boolean {
  if (accepted.length === 0) return true;
  const acc = accepted.map((m) => m.trim().toUpperCase());
  const m = maturity.trim().toUpperCase();
  if (m === '') return acc.includes('') || acc.includes('PROD');
  return acc.includes(m);
}

/**
 * W-C4 architecture: `all` (or empty) fits every host; otherwise it must equal the host's.
 * Decision: an x64 host does NOT take x86 entries. WAPT's host filter is
 * `architectures=[host arch]` (HostCapabilities.get_package_request_filter), so it does not either.
 */
export function architectureFits(arch: string, hostArch: string): boolean {
  const a = arch.trim().toLowerCase();
  const h = hostArch.trim().toLowerCase();
  return a === '' || a === 'all' || h === '' || h === 'all' || a === h;
}

/** W-C4 locale: an entry's comma list must meet the host's; empty or `all` on either side = any. */
export function localeFits(locale: string, hostLocales: string[]): boolean {
  const entry = list(locale);
  const host = hostLocales.map((l) => l.trim().toLowerCase()).filter((l) => l !== '');
  return isAny(entry) || host.length === 0 || entry.some((l) => host.includes(l));
}

/** W-C4 target_os, as WAPT's is_matching_package: linux and darwin also answer to `unix`. */
export function targetOsFits(targetOs: string, os: Environment['os']): boolean {
  const targets = list(targetOs);
  if (isAny(targets)) return true;
  const names: string[] = [os];
  if (os === 'linux' || os === 'darwin') names.push('unix');
  if (os === 'darwin') names.push('macos');
  return names.some((n) => targets.includes(n));
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Local time as WAPT writes it (`datetime.now().isoformat()` with microseconds). */
export function localIso(d: Date): string {
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}000`
  );
}

const ZONED = /T.*(Z|[+-]\d\d:?\d\d)$/i;

/**
 * Compare an entry's date text with now: -1 when the date is before now, 0 equal, 1 after.
 * WAPT compares the strings with local `isoformat()`; zone-less values do the same here
 * (so `2024-01-01` is midnight), values carrying a zone are compared as instants.
 */
export function compareDateWithNow(value: string, now: Date): -1 | 0 | 1 {
  const v = value.trim().replace(' ', 'T');
  if (ZONED.test(v)) {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t < now.getTime() ? -1 : t > now.getTime() ? 1 : 0;
  }
  const n = localIso(now);
  return v < n ? -1 : v > n ? 1 : 0;
}

function softCompare(a: string, b: string, what: string): -1 | 0 | 1 | string {
  try {
    return compareSoft(a, b);
  } catch {
    return `${what} ${JSON.stringify(a)} is not a version`;
  }
}

/**
 * W-C4: every host filter, first failing reason wins. min_wapt_version is checked last so
 * that a candidate refused only for it can be reported as "client too old".
 */
export function eligible(c: Candidate, env: Environment): Eligibility {
  const f = (k: string): string => field(c.control, k).trim();
  const version = f('version');
  try {
    parseVersion(version);
  } catch {
    return no(`version ${JSON.stringify(version)} is not valid (W-B1)`);
  }
  const arch = f('architecture');
  if (!architectureFits(arch, env.architecture)) {
    return no(`architecture ${arch} does not match this host (${env.architecture})`);
  }
  const locale = f('locale');
  if (!localeFits(locale, env.locales)) {
    return no(`locale ${locale} is not among the host locales (${env.locales.join(', ')})`);
  }
  const maturity = f('maturity');
  if (!maturityAccepted(maturity, env.maturities)) {
    const shown = env.maturities.map((m) => (m.trim() === '' ? '(unset)' : m)).join(', ');
    return no(`maturity ${maturity || '(unset)'} not accepted (accepted: ${shown})`);
  }
  const targetOs = f('target_os');
  if (!targetOsFits(targetOs, env.os)) {
    return no(`target_os ${targetOs} does not include this host (${env.os})`);
  }
  const minOs = f('min_os_version');
  if (minOs !== '' && env.osVersion.trim() !== '') {
    const c2 = softCompare(minOs, env.osVersion, 'min_os_version');
    if (typeof c2 === 'string') return no(c2);
    if (c2 > 0) return no(`needs OS version >= ${minOs} (this host: ${env.osVersion})`);
  }
  const maxOs = f('max_os_version');
  if (maxOs !== '' && env.osVersion.trim() !== '') {
    const c2 = softCompare(maxOs, env.osVersion, 'max_os_version');
    if (typeof c2 === 'string') return no(c2);
    if (c2 < 0) return no(`supports OS versions <= ${maxOs} only (this host: ${env.osVersion})`);
  }
  const from = f('valid_from');
  if (from !== '' && compareDateWithNow(from, env.now) > 0) return no(`not valid before ${from} (valid_from)`);
  const until = f('valid_until');
  if (until !== '' && compareDateWithNow(until, env.now) <= 0) return no(`expired on ${until} (valid_until)`);
  const minWapt = f('min_wapt_version');
  if (minWapt !== '') {
    const c2 = softCompare(minWapt, env.waptVersion, 'min_wapt_version');
    if (typeof c2 === 'string') return no(c2);
    if (c2 > 0) return no(`needs wapt-get >= ${minWapt} (this is ${env.waptVersion})`);
  }
  return OK;
}

/** Reason text of eligible() for min_wapt_version; lets callers map it to CLIENT_TOO_OLD. */
export const isClientTooOld = (reason: string): boolean => reason.startsWith('needs wapt-get >= ');

/**
 * W-B5/W-C4: filters a requirement may carry beside its version (architecture, locale,
 * maturity, target_os, OS version bounds, an exact `{package_uuid}` build).
 */
export function meetsRestrictions(c: Candidate, req: Requirement): boolean {
  const f = (k: string): string => field(c.control, k).trim();
  if (req.packageUuid && f('package_uuid').toLowerCase() !== req.packageUuid.toLowerCase()) return false;
  if (req.architecture && req.architecture.length > 0 && !req.architecture.some((a) => architectureFits(f('architecture'), a))) {
    return false;
  }
  if (req.locale && !localeFits(f('locale'), req.locale)) return false;
  if (req.maturity && !maturityAccepted(f('maturity'), req.maturity)) return false;
  if (req.targetOs && req.targetOs.length > 0) {
    const targets = list(f('target_os'));
    if (!isAny(targets) && !req.targetOs.some((o) => targets.includes(o.trim().toLowerCase()))) return false;
  }
  // WAPT is_matched_by: the entry's max must reach the request's min, its min must not pass the request's max.
  const maxOs = f('max_os_version');
  if (req.minOsVersion && maxOs !== '') {
    const c2 = softCompare(maxOs, req.minOsVersion, 'max_os_version');
    if (typeof c2 === 'string' || c2 < 0) return false;
  }
  const minOs = f('min_os_version');
  if (req.maxOsVersion && minOs !== '') {
    const c2 = softCompare(minOs, req.maxOsVersion, 'min_os_version');
    if (typeof c2 === 'string' || c2 > 0) return false;
  }
  return true;
}
