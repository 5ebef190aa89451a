// Depth-first walk of the depends graph: one decision per name, every constraint on a name
// checked against it, conflicts applied, cycles detected through the walk's stack.
import { versionSatisfies } from './catalog.js';
import { decide, reasonFor, write, type Context, type Decision, type Origin, type PassState } from './decide.js';
import { conflictError, cycleError, heldError, showChain, type Constraint } from './messages.js';

/** Thrown when a decided name meets a constraint it does not satisfy: pin it and run the pass again. */
export class Restart {
  constructor(
    readonly name: string,
    readonly constraint: Constraint,
  ) {}
}

const changes = (d: Decision): boolean => d.action !== 'keep';

function satisfiesDecision(ctx: Context, d: Decision, c: Constraint): boolean {
  if (!versionSatisfies(d.version, c.req)) return false;
  return d.candidate ? ctx.cat.satisfiesAll(d.candidate, [c.req]) : true;
}

/** A planned package's `conflicts` against installed packages (→ removal) and the plan (→ CONFLICT). */
function applyConflicts(ctx: Context, st: PassState, d: Decision): void {
  for (const req of ctx.cat.conflicts(d.candidate!)) {
    const target = req.name;
    if (target === d.name) continue;
    write(st, st.conflictsOn, target, [...(st.conflictsOn.get(target) ?? []), { req, by: d.name, byVersion: d.version }]);
    const td = st.decisions.get(target);
    if (td && (changes(td) || td.needed)) {
      if (versionSatisfies(td.version, req)) {
        throw conflictError(
          `${d.name} ${d.version} conflicts with ${req.raw}, but the plan also needs ${target} ${td.version} (${[target, ...td.origin.chain].join(' ← ')})`,
          { package: d.name, conflict: req.raw, with: target },
        );
      }
      continue;
    }
    const inst = ctx.installed.get(target);
    if (!inst || !versionSatisfies(inst.version, req)) continue;
    if (inst.held) throw heldError(target, inst.version, `${d.name} ${d.version} conflicts with it (${req.raw})`);
    write(st, st.removals, target, { installed: inst, by: d.name, req });
    write(st, st.decisions, target, undefined); // an installed package merely looked at by upgrade: it goes instead
  }
}

/** A name the plan now needs or changes must not be claimed by an earlier planned package's conflicts. */
function checkClaims(st: PassState, d: Decision): void {
  for (const claim of st.conflictsOn.get(d.name) ?? []) {
    if (claim.by !== d.name && versionSatisfies(d.version, claim.req)) {
      throw conflictError(
        `${claim.by} ${claim.byVersion} conflicts with ${claim.req.raw}, but the plan also needs ${d.name} ${d.version} (${[d.name, ...d.origin.chain].join(' ← ')})`,
        { package: claim.by, conflict: claim.req.raw, with: d.name },
      );
    }
  }
}

export function visit(ctx: Context, st: PassState, name: string, constraint: Constraint, origin: Origin): void {
  const onStack = st.stack.indexOf(name);
  if (onStack >= 0) throw cycleError([...st.stack.slice(onStack), name]);
  const removal = st.removals.get(name);
  if (removal) {
    if (origin.kind === 'implicit') return;
    throw conflictError(
      `${removal.by} conflicts with ${removal.req.raw}, so ${name} ${removal.installed.version} would be removed, but ${showChain(constraint)}`,
      { package: removal.by, conflict: removal.req.raw, with: name },
    );
  }
  const existing = st.decisions.get(name);
  if (existing) {
    if (origin.kind === 'implicit') return;
    if (!satisfiesDecision(ctx, existing, constraint)) throw new Restart(name, constraint);
    const explicit = origin.kind === 'request' || origin.kind === 'host';
    const updated: Decision = {
      ...existing,
      needed: true,
      ...(explicit ? { origin, reason: changes(existing) ? reasonFor(origin) : existing.reason } : {}),
    };
    write(st, st.decisions, name, updated);
    if (!existing.needed) checkClaims(st, updated);
    return;
  }
  const d = decide(ctx, st, name, [...(ctx.pinned.get(name) ?? []), constraint], origin);
  write(st, st.decisions, name, d);
  if (changes(d) || d.needed) checkClaims(st, d);
  if (!changes(d)) return; // like WAPT, only what the plan changes has its depends walked
  applyConflicts(ctx, st, d);
  const chain = [`required by ${name}`, ...origin.chain];
  st.stack.push(name);
  try {
    for (const req of ctx.cat.depends(d.candidate!)) {
      visit(ctx, st, req.name, { req, chain }, { kind: 'dependency', by: name, chain });
    }
  } finally {
    st.stack.pop();
  }
}
