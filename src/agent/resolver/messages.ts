// Readable errors of the resolver: one block that shows the chain of requirements and
// every available version with the reason it was not taken.
import { WaptError } from '../../errors.js';
import type { Catalog } from './catalog.js';
import { isClientTooOld } from './filters.js';
import { field, type Requirement } from '../../package/index.js';

/** A requirement on a name plus how the plan came to need it: ['required by X', 'requested']. */
export interface Constraint {
  req: Requirement;
  chain: string[];
}

const MAX_LISTED = 8;

export function nameOnly(name: string): Requirement {
  return { name, op: null, version: null, raw: name };
}

export const showChain = (c: Constraint): string => [c.req.raw, ...c.chain].join(' ← ');

function candidateFacts(cat: Catalog, name: string, reqs: Requirement[]) {
  return cat.candidates(name).map((c) => {
    const e = cat.eligibility(c);
    return {
      version: field(c.control, 'version'),
      maturity: field(c.control, 'maturity').trim() || 'PROD',
      repo: c.repo,
      eligible: e.ok,
      satisfies: cat.satisfiesAll(c, reqs),
      reason: e.ok ? undefined : e.reason,
    };
  });
}

function availableLine(name: string, facts: ReturnType<typeof candidateFacts>): string {
  if (facts.length === 0) return `  available: none (no package named ${name} in the repositories)`;
  const shown = facts.slice(0, MAX_LISTED).map((f, i) => {
    const label = i === 0 ? `${name} ${f.version}` : f.version;
    return f.reason ? `${label} (${f.maturity}: ${f.reason})` : `${label} (${f.maturity})`;
  });
  const more = facts.length > MAX_LISTED ? `, … and ${facts.length - MAX_LISTED} more` : '';
  return `  available: ${shown.join(', ')}${more}`;
}

/**
 * No eligible entry satisfies every constraint on `name`. CLIENT_TOO_OLD when the best
 * version-satisfying entry was refused only for min_wapt_version; PACKAGE_NOT_FOUND when
 * a requested name is unknown; otherwise UNSATISFIABLE.
 */
export function unsatisfiable(cat: Catalog, name: string, constraints: Constraint[], requested: boolean): WaptError {
  const reqs = constraints.map((c) => c.req);
  const facts = candidateFacts(cat, name, reqs);
  const chains = constraints.map(showChain);
  const detail = {
    package: name,
    chain: [constraints[0]!.req.raw, ...constraints[0]!.chain],
    constraints: constraints.map((c) => ({ requirement: c.req.raw, chain: c.chain })),
    candidates: facts,
  };
  if (facts.length === 0 && requested) {
    return new WaptError('PACKAGE_NOT_FOUND', `no package named ${name} in the repositories`, { detail });
  }
  const head = chains.length === 1 ? chains[0]! : `no version of ${name} satisfies all of:\n  ${chains.join('\n  ')}`;
  const body = `${head}\n${availableLine(name, facts)}`;
  const tooOld = facts.find((f) => f.satisfies);
  if (tooOld && !tooOld.eligible && tooOld.reason && isClientTooOld(tooOld.reason)) {
    return new WaptError('CLIENT_TOO_OLD', `${name} ${tooOld.version} ${tooOld.reason}\n${body}`, { detail });
  }
  return new WaptError('UNSATISFIABLE', body, { detail });
}

export function heldError(name: string, version: string, why: string): WaptError {
  const reason = `held at ${version}, but ${why}`;
  return new WaptError('PACKAGE_HELD', `${name} is ${reason}`, { detail: { package: name, version, reason } });
}

export function cycleError(cycle: string[]): WaptError {
  return new WaptError('DEPENDENCY_CYCLE', `dependency cycle: ${cycle.join(' → ')}`, { detail: { cycle } });
}

export function conflictError(message: string, detail: Record<string, unknown>): WaptError {
  return new WaptError('CONFLICT', message, { detail });
}
