// Builders for the resolver tests: candidates, installed rows, host environment.
import type { Candidate, Environment, InstalledPkg } from '../../src/agent/resolver/index.js';

export const ENV: Environment = {
  architecture: 'x64',
  maturities: ['PROD', ''],
  locales: ['fr', 'en'],
  os: 'windows',
  osVersion: '10.0.19045',
  waptVersion: '2.3.0',
  now: new Date(2025, 5, 1, 12, 0, 0),
};

export function env(over: Partial<Environment> = {}): Environment {
  return { ...ENV, ...over };
}

/** `c('tis-app 1.0-1', { depends: 'tis-lib(>=1)' })` → one index entry (defaults W-C3). */
export function c(spec: string, fields: Record<string, string> = {}, extra: Partial<Candidate> = {}): Candidate {
  const [name, version] = spec.split(' ') as [string, string];
  const control = new Map<string, string>([
    ['package', name],
    ['version', version],
    ['architecture', 'all'],
    ['section', 'base'],
    ['priority', 'optional'],
    ['maturity', 'PROD'],
  ]);
  for (const [k, v] of Object.entries(fields)) control.set(k, v);
  return { control, repo: 'main', repoPriority: 0, filename: `${name}_${version}.wapt`, ...extra };
}

/** `inst('tis-app 1.0-1', { held: true })` → one local DB row. */
export function inst(spec: string, over: Partial<InstalledPkg> = {}): InstalledPkg {
  const [name, version] = spec.split(' ') as [string, string];
  return { package: name, version, status: 'OK', explicit: true, held: false, ...over };
}

/** Catch a thrown value so that tests can assert on its code, message and detail. */
export function thrown(fn: () => unknown): { code?: string; message: string; detail?: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string; detail?: Record<string, unknown> };
  }
  throw new Error('expected an error, none was thrown');
}

/** "name version" of each step, for compact assertions. */
export const names = (steps: { package: string; toVersion?: string }[]): string[] =>
  steps.map((s) => (s.toVersion ? `${s.package} ${s.toVersion}` : s.package));
