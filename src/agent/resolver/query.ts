// Read-only questions about the index: best entry and why it is chosen. What `upgrade`
// would do (NEED-UPGRADE, W-G2) is the upgrade plan itself: install/plan.ts upgradePlan().
import { catalogFor, isNewer } from './catalog.js';
import type { Candidate, Environment } from './types.js';
import { field, type Requirement } from '../../package/index.js';

/** Highest W-B4 version that is eligible (W-C4) and satisfies every requirement; ties per Catalog.compare. */
export function chooseBest(name: string, reqs: Requirement[], available: Candidate[], env: Environment): Candidate | null {
  return catalogFor(available, env).best(name, reqs);
}

const label = (c: Candidate): string => `${field(c.control, 'version')} (${c.repo})`;

/** For `show`: every entry of `name`, best first, with its eligibility, the chosen one and why. */
export function explain(
  name: string,
  available: Candidate[],
  env: Environment,
): { candidates: { candidate: Candidate; eligible: boolean; reason?: string }[]; chosen: Candidate | null; why: string } {
  const cat = catalogFor(available, env);
  const all = cat.candidates(name);
  const candidates = all.map((candidate) => {
    const e = cat.eligibility(candidate);
    return e.ok ? { candidate, eligible: true } : { candidate, eligible: false, reason: e.reason };
  });
  const chosen = cat.best(name, []);
  if (all.length === 0) return { candidates, chosen, why: `no package named ${name} in the repositories` };
  if (!chosen) {
    const reasons = candidates.map((c) => `${label(c.candidate)}: ${c.reason}`);
    return { candidates, chosen, why: `no eligible version: ${reasons.join('; ')}` };
  }
  const parts = [`${name} ${label(chosen)} is the highest eligible version (W-B4)`];
  const newer = candidates.filter((c) => !c.eligible && isNewer(field(c.candidate.control, 'version'), field(chosen.control, 'version')));
  if (newer.length > 0) parts.push(`newer but not eligible: ${newer.map((c) => `${label(c.candidate)}: ${c.reason}`).join('; ')}`);
  const rival = candidates.find(
    (c) =>
      c.eligible &&
      c.candidate !== chosen &&
      cat.compare(chosen, c.candidate) !== 0 &&
      !isNewer(field(chosen.control, 'version'), field(c.candidate.control, 'version')),
  );
  if (rival) {
    const [, by] = cat.tieBreak(chosen, rival.candidate);
    const rule =
      by === 'signature_date'
        ? 'later signature_date (W-B4b)'
        : by === 'host preference'
          ? 'host architecture/locale preference'
          : 'higher repository priority';
    parts.push(`preferred over ${label(rival.candidate)} of the same version by ${rule}`);
  }
  return { candidates, chosen, why: parts.join('; ') };
}
