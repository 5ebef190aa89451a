// The printed plan and results (pure). JSON keeps the resolver's categories (W-G2) with
// plain objects; human lines say what will happen, held packages included.
import type { Plan, PlanStep } from '../resolver/index.js';
import type { StepResult } from './transaction.js';

export interface PlanStepJson {
  action: PlanStep['action'];
  package: string;
  from_version?: string;
  version?: string;
  reason: string;
  repo?: string;
  filename?: string;
  size?: number;
}

export interface PlanJson {
  order: PlanStepJson[];
  install: string[];
  upgrade: string[];
  additional: string[];
  remove: string[];
  skipped: { package: string; reason: string }[];
  unavailable: { request: string; reason: string }[];
  held: { package: string; reason: string }[];
  warnings: string[];
}

export function stepJson(s: PlanStep): PlanStepJson {
  return {
    action: s.action,
    package: s.package,
    ...(s.fromVersion !== undefined ? { from_version: s.fromVersion } : {}),
    ...(s.toVersion !== undefined && s.action !== 'remove' ? { version: s.toVersion } : {}),
    reason: s.reason,
    ...(s.candidate ? { repo: s.candidate.repo, filename: s.candidate.filename } : {}),
    ...(s.candidate?.size !== undefined ? { size: s.candidate.size } : {}),
  };
}

export function planJson(p: Plan): PlanJson {
  const names = (steps: PlanStep[]) => steps.map((s) => s.package);
  return {
    order: p.order.map(stepJson),
    install: names(p.install),
    upgrade: names(p.upgrade),
    additional: names(p.additional),
    remove: names(p.remove),
    skipped: p.skipped,
    unavailable: p.unavailable,
    held: p.held,
    warnings: p.warnings,
  };
}

export function describeStep(s: PlanStepJson): string {
  const ver = s.action === 'remove' ? s.from_version : s.from_version && s.from_version !== s.version ? `${s.from_version} → ${s.version}` : s.version;
  return `${s.action} ${s.package} ${ver ?? ''} (${s.reason})`.replace(/ {2,}/g, ' ');
}

/** Human lines of a plan: numbered steps in execution order, then held/skipped/unavailable. */
export function planLines(p: PlanJson): string[] {
  const lines: string[] = [];
  if (p.order.length === 0) lines.push('nothing to do');
  else {
    lines.push(`plan (${p.order.length} step${p.order.length === 1 ? '' : 's'}):`);
    p.order.forEach((s, i) => lines.push(`  ${i + 1}. ${describeStep(s)}`));
  }
  for (const h of p.held) lines.push(`  held: ${h.package} (${h.reason})`);
  for (const s of p.skipped) lines.push(`  skipped: ${s.package} (${s.reason})`);
  for (const u of p.unavailable) lines.push(`  unavailable: ${u.request} (${u.reason})`);
  for (const w of p.warnings) lines.push(`  warning: ${w}`);
  return lines;
}

export function resultLine(r: StepResult): string {
  const what = `${r.action} ${r.package} ${r.version}`.trim();
  return r.status === 'ERROR' ? `${what}: ERROR [${r.error_code}] ${r.message ?? ''}`.trim() : `${what}: ${r.status}`;
}
