// Execution order of a plan: removals first (dependents before what they depend on), then
// installs with dependencies before dependents; independent steps by control priority, then name.
import type { PlanStep } from './types.js';
import { field } from '../../package/index.js';

/**
 * `priority` is free text in WAPT (W-C2, default `optional`); we rank the Debian-like
 * words it uses and treat anything else as `optional`.
 */
const PRIORITY_RANK: Record<string, number> = { critical: 0, required: 1, important: 2, standard: 3, optional: 4, extra: 5 };

export function priorityRank(step: PlanStep): number {
  const p = step.candidate ? field(step.candidate.control, 'priority').trim().toLowerCase() : '';
  return PRIORITY_RANK[p] ?? PRIORITY_RANK.optional!;
}

function pushTo(map: Map<string, string[]>, key: string, value: string): void {
  const items = map.get(key);
  if (items) items.push(value);
  else map.set(key, [value]);
}

/** A small binary heap keyed by (rank, name); keeps topological sorting O(n log n). */
class ReadyQueue {
  private items: { rank: number; name: string }[] = [];
  private less(a: { rank: number; name: string }, b: { rank: number; name: string }): boolean {
    return a.rank !== b.rank ? a.rank < b.rank : a.name < b.name;
  }
  get size(): number {
    return this.items.length;
  }
  push(item: { rank: number; name: string }): void {
    const h = this.items;
    h.push(item);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): string {
    const h = this.items;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top.name;
  }
}

/**
 * Kahn's algorithm: `before(step)` names the steps that must run before it (only names that
 * are steps count). The resolver has already refused cycles; any left are broken by name order.
 */
export function topoOrder(steps: PlanStep[], before: (s: PlanStep) => string[], rank: (s: PlanStep) => number): PlanStep[] {
  const byName = new Map(steps.map((s) => [s.package, s]));
  const waitsFor = new Map<string, number>();
  const unblocks = new Map<string, string[]>();
  for (const s of steps) {
    const deps = [...new Set(before(s))].filter((d) => d !== s.package && byName.has(d));
    waitsFor.set(s.package, deps.length);
    for (const d of deps) pushTo(unblocks, d, s.package);
  }
  const queue = new ReadyQueue();
  for (const s of steps) if (waitsFor.get(s.package) === 0) queue.push({ rank: rank(s), name: s.package });
  const out: PlanStep[] = [];
  const done = new Set<string>();
  while (out.length < steps.length) {
    if (queue.size === 0) {
      // defensive: a leftover cycle; release the first waiting step by name
      const next = steps.filter((s) => !done.has(s.package)).sort((a, b) => (a.package < b.package ? -1 : 1))[0]!;
      waitsFor.set(next.package, 0);
      queue.push({ rank: rank(next), name: next.package });
    }
    const name = queue.pop();
    if (done.has(name)) continue;
    done.add(name);
    out.push(byName.get(name)!);
    for (const n of unblocks.get(name) ?? []) {
      const left = waitsFor.get(n)! - 1;
      waitsFor.set(n, left);
      if (left === 0 && !done.has(n)) queue.push({ rank: rank(byName.get(n)!), name: n });
    }
  }
  return out;
}

/** Removals (dependents first) then installs (dependencies first). */
export function orderPlan(
  removes: PlanStep[],
  installs: PlanStep[],
  dependsOf: (s: PlanStep) => string[],
  installedDependsOf: (name: string) => string[],
): PlanStep[] {
  // For removals the edge is reversed: X must go before the packages X depends on.
  const dependents = new Map<string, string[]>();
  for (const r of removes) {
    for (const d of installedDependsOf(r.package)) pushTo(dependents, d, r.package);
  }
  const removalOrder = topoOrder(
    removes,
    (s) => dependents.get(s.package) ?? [],
    () => 0,
  );
  return [...removalOrder, ...topoOrder(installs, dependsOf, priorityRank)];
}
