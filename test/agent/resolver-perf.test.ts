// Performance: an upgrade over 10,000 index entries with 200 installed packages.
import { resolve, type Candidate, type InstalledPkg } from '../../src/agent/resolver/index.js';
import { c, env, inst } from './resolver-builders.js';

test('upgrade over 10,000 entries and 200 installed: right plan (time reported, not asserted)', () => {
  const available: Candidate[] = [];
  const installed: InstalledPkg[] = [];
  // 2,000 names × 5 versions; every package i > 0 depends on package i-1 at >= 1.0.
  for (let i = 0; i < 2000; i++) {
    const name = `pkg-${String(i).padStart(4, '0')}`;
    for (let v = 1; v <= 5; v++) {
      const fields: Record<string, string> = { signature_date: `2024-01-0${v}T00:00:00` };
      if (i > 0 && i % 10 !== 0) fields.depends = `pkg-${String(i - 1).padStart(4, '0')}(>=1.0)`;
      if (v === 5 && i % 7 === 0) fields.maturity = 'DEV'; // newest refused on some names
      available.push(c(`${name} ${v}.0-1`, fields));
    }
  }
  for (let i = 0; i < 2000; i += 10) {
    // 200 installed: heads of 10-long chains, installed with their whole chain would be 2,000;
    // instead install the heads at version 1.0-1 and let upgrade find the rest.
    installed.push(inst(`pkg-${String(i + 9).padStart(4, '0')} 1.0-1`));
  }
  const started = process.hrtime.bigint();
  const plan = resolve({ kind: 'upgrade', names: [] }, available, installed, env());
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(`resolver: upgrade of 200 installed over ${available.length} entries took ${ms.toFixed(1)} ms`);

  expect(plan.upgrade).toHaveLength(200);
  for (const step of plan.upgrade) {
    const i = Number(step.package.slice(4));
    expect(step.toVersion).toBe(i % 7 === 0 ? '4.0-1' : '5.0-1');
  }
  // each head pulls the 9 packages of its chain below it
  expect(plan.additional).toHaveLength(1800);
  const position = new Map(plan.order.map((s, n) => [s.package, n]));
  for (const step of plan.order) {
    const i = Number(step.package.slice(4));
    if (i % 10 !== 0) expect(position.get(`pkg-${String(i - 1).padStart(4, '0')}`)!).toBeLessThan(position.get(step.package)!);
  }
});
