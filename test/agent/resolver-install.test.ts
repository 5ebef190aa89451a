// resolve({kind:'install'}): depends, conflicts, cycles, pins, held packages, order (W-B5, W-G2).
import { resolve } from '../../src/agent/resolver/index.js';
import { c, env, inst, names, thrown } from './resolver-builders.js';

const install = (names: string[], available = [c('x 1')], installed = [inst('none 1')].slice(1), force = false) =>
  resolve({ kind: 'install', names, force }, available, installed, env());

describe('install: dependencies', () => {
  test('requested package is install, its depends are additional, dependencies come first in order', () => {
    const repo = [c('tis-app 2.0-1', { depends: 'tis-lib(>=1),tis-rt' }), c('tis-lib 1.5-1', { depends: 'tis-rt' }), c('tis-rt 3-1')];
    const plan = install(['tis-app'], repo);
    expect(names(plan.install)).toEqual(['tis-app 2.0-1']);
    expect(names(plan.additional).sort()).toEqual(['tis-lib 1.5-1', 'tis-rt 3-1']);
    expect(plan.additional.find((s) => s.package === 'tis-lib')).toMatchObject({ reason: 'dependency of tis-app', explicit: false, action: 'install' });
    expect(names(plan.order)).toEqual(['tis-rt 3-1', 'tis-lib 1.5-1', 'tis-app 2.0-1']);
  });

  test('highest version satisfying every pin wins (intersection of two dependents: >=1.5 and <3)', () => {
    const repo = [
      c('tis-a 1-1', { depends: 'tis-lib(>=1.5)' }),
      c('tis-b 1-1', { depends: 'tis-lib(<3)' }),
      ...['1.0-1', '1.5-1', '2.0-1', '3.0-1'].map((v) => c(`tis-lib ${v}`)),
    ];
    const plan = install(['tis-a', 'tis-b'], repo);
    expect(names(plan.additional)).toEqual(['tis-lib 2.0-1']);
  });

  test('pins from two dependents that do not intersect → UNSATISFIABLE naming both chains', () => {
    const repo = [c('tis-a 1-1', { depends: 'tis-lib(>=2)' }), c('tis-b 1-1', { depends: 'tis-lib(<2)' }), c('tis-lib 1.0-1'), c('tis-lib 2.0-1')];
    const e = thrown(() => install(['tis-a', 'tis-b'], repo));
    expect(e.code).toBe('UNSATISFIABLE');
    expect(e.message).toBe(
      'no version of tis-lib satisfies all of:\n' +
        '  tis-lib(<2) ← required by tis-b ← requested\n' +
        '  tis-lib(>=2) ← required by tis-a ← requested\n' +
        '  available: tis-lib 2.0-1 (PROD), 1.0-1 (PROD)',
    );
  });

  test('unsatisfiable requirement shows the chain and why each version was refused', () => {
    const repo = [c('tis-group-demo 3-1', { depends: 'tis-app(>=2)' }), c('tis-app 1.0-1'), c('tis-app 1.5-2', { maturity: 'DEV' })];
    const e = thrown(() => install(['tis-group-demo'], repo));
    expect(e.code).toBe('UNSATISFIABLE');
    expect(e.message).toBe(
      'tis-app(>=2) ← required by tis-group-demo ← requested\n' +
        '  available: tis-app 1.5-2 (DEV: maturity DEV not accepted (accepted: PROD, (unset))), 1.0-1 (PROD)',
    );
    expect(e.detail?.chain).toEqual(['tis-app(>=2)', 'required by tis-group-demo', 'requested']);
    expect((e.detail?.candidates as unknown[]).length).toBe(2);
  });

  test('missing dependency → UNSATISFIABLE with the chain (not PACKAGE_NOT_FOUND)', () => {
    const repo = [c('tis-top 1-1', { depends: 'tis-mid' }), c('tis-mid 1-1', { depends: 'tis-missing' })];
    const e = thrown(() => install(['tis-top'], repo));
    expect(e.code).toBe('UNSATISFIABLE');
    expect(e.message).toBe(
      'tis-missing ← required by tis-mid ← required by tis-top ← requested\n  available: none (no package named tis-missing in the repositories)',
    );
  });

  test('unknown requested name → PACKAGE_NOT_FOUND', () => {
    expect(thrown(() => install(['tis-nope'])).code).toBe('PACKAGE_NOT_FOUND');
  });

  test('requested version that needs a newer client → CLIENT_TOO_OLD naming both versions', () => {
    const e = thrown(() => install(['tis-app(>=2)'], [c('tis-app 1-1'), c('tis-app 2-1', { min_wapt_version: '3.1' })]));
    expect(e.code).toBe('CLIENT_TOO_OLD');
    expect(e.message.split('\n')[0]).toBe('tis-app 2-1 needs wapt-get >= 3.1 (this is 2.3.0)');
  });

  test('already installed at a satisfying version → skipped, nothing to do', () => {
    const plan = install(['tis-app(>=1)'], [c('tis-app 1.0-1'), c('tis-app 2.0-1')], [inst('tis-app 1.0-1')]);
    expect(plan.skipped).toEqual([{ package: 'tis-app', reason: 'already installed (1.0-1)' }]);
    expect(plan.order).toEqual([]);
  });

  test('--force reinstalls a requested installed package (upgrade category, action reinstall)', () => {
    const plan = install(['tis-app'], [c('tis-app 1.0-1')], [inst('tis-app 1.0-1')], true);
    expect(plan.upgrade).toMatchObject([{ action: 'reinstall', package: 'tis-app', fromVersion: '1.0-1', toVersion: '1.0-1' }]);
  });

  test('installed dependency too old for the new package → upgraded (upgrade category)', () => {
    const repo = [c('tis-app 1-1', { depends: 'tis-lib(>=2)' }), c('tis-lib 1-1'), c('tis-lib 2-1')];
    const plan = install(['tis-app'], repo, [inst('tis-lib 1-1', { explicit: false })]);
    expect(plan.upgrade).toMatchObject([{ package: 'tis-lib', fromVersion: '1-1', toVersion: '2-1', reason: 'dependency of tis-app' }]);
  });

  test('an installed package keeps a dependency version it accepts (its <3 intersected with the new >=2)', () => {
    const repo = [c('tis-new 1-1', { depends: 'tis-lib(>=2)' }), ...['1-1', '2-1', '3-1'].map((v) => c(`tis-lib ${v}`))];
    const installed = [inst('tis-old 1-1', { depends: 'tis-lib(<3)' }), inst('tis-lib 1-1')];
    expect(names(install(['tis-new'], repo, installed).upgrade)).toEqual(['tis-lib 2-1']);
    const clash = thrown(() => install(['tis-new'], repo, [inst('tis-old 1-1', { depends: 'tis-lib(<2)' }), inst('tis-lib 1-1')]));
    expect(clash.code).toBe('UNSATISFIABLE');
    expect(clash.message).toContain('tis-lib(<2) ← required by tis-old ← installed');
  });
});

describe('install: cycles', () => {
  test.each([
    ['2 long', [c('a 1', { depends: 'b' }), c('b 1', { depends: 'a' })], 'dependency cycle: a → b → a'],
    ['3 long', [c('a 1', { depends: 'b' }), c('b 1', { depends: 'c' }), c('c 1', { depends: 'a' })], 'dependency cycle: a → b → c → a'],
    ['self', [c('a 1', { depends: 'a' })], 'dependency cycle: a → a'],
  ])('%s cycle → DEPENDENCY_CYCLE naming it', (_t, repo, message) => {
    const e = thrown(() => install(['a'], repo));
    expect(e).toMatchObject({ code: 'DEPENDENCY_CYCLE', message });
  });
  test('a diamond is not a cycle', () => {
    const repo = [c('a 1', { depends: 'b,c' }), c('b 1', { depends: 'd' }), c('c 1', { depends: 'd' }), c('d 1')];
    expect(names(install(['a'], repo).order)).toEqual(['d 1', 'b 1', 'c 1', 'a 1']);
  });
});

describe('install: conflicts', () => {
  test('installed package in conflict → remove step before the installs', () => {
    const repo = [c('tis-new 1-1', { conflicts: 'tis-old(<2)', depends: 'tis-lib' }), c('tis-lib 1-1')];
    const plan = install(['tis-new'], repo, [inst('tis-old 1.5-1'), inst('tis-user 1-1', { depends: 'tis-old' })]);
    expect(plan.remove).toEqual([{ action: 'remove', package: 'tis-old', fromVersion: '1.5-1', reason: 'conflicts with tis-new', explicit: false }]);
    expect(names(plan.order)).toEqual(['tis-old', 'tis-lib 1-1', 'tis-new 1-1']);
    expect(plan.warnings).toEqual(['tis-user depends on tis-old, which is removed because tis-new conflicts with it']);
  });
  test('conflict that does not match the installed version → nothing removed', () => {
    const plan = install(['tis-new'], [c('tis-new 1-1', { conflicts: 'tis-old(<2)' })], [inst('tis-old 2.0-1')]);
    expect(plan.remove).toEqual([]);
  });
  test('held installed package in conflict → PACKAGE_HELD', () => {
    const e = thrown(() => install(['tis-new'], [c('tis-new 1-1', { conflicts: 'tis-old' })], [inst('tis-old 1-1', { held: true })]));
    expect(e).toMatchObject({ code: 'PACKAGE_HELD', message: 'tis-old is held at 1-1, but tis-new 1-1 conflicts with it (tis-old)' });
  });
  test.each([
    ['two requested packages', ['tis-a', 'tis-b'], [c('tis-a 1', { conflicts: 'tis-b' }), c('tis-b 1')]],
    ['requested package conflicting with a later one', ['tis-b', 'tis-a'], [c('tis-a 1', { conflicts: 'tis-b' }), c('tis-b 1')]],
    ['a package and a dependency of its own', ['tis-a'], [c('tis-a 1', { depends: 'tis-c,tis-b' }), c('tis-b 1'), c('tis-c 1', { conflicts: 'tis-b' })]],
  ])('conflict within the plan (%s) → CONFLICT', (_t, req, repo) => {
    const e = thrown(() => install(req, repo));
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toMatch(/conflicts with tis-b, but the plan also needs tis-b 1/);
  });
  test('a dependency on a package being removed for a conflict → CONFLICT', () => {
    const repo = [c('tis-a 1', { conflicts: 'tis-old' }), c('tis-b 1', { depends: 'tis-old' }), c('tis-old 1')];
    const e = thrown(() => install(['tis-a', 'tis-b'], repo, [inst('tis-old 1')]));
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toContain('so tis-old 1 would be removed, but tis-old ← required by tis-b ← requested');
  });
});

describe('install: held packages', () => {
  test('a dependency needing a newer version of a held package → PACKAGE_HELD with the chain', () => {
    const repo = [c('tis-app 1-1', { depends: 'tis-lib(>=2)' }), c('tis-lib 2-1')];
    const e = thrown(() => install(['tis-app'], repo, [inst('tis-lib 1-1', { held: true })]));
    expect(e.code).toBe('PACKAGE_HELD');
    expect(e.message).toBe('tis-lib is held at 1-1, but tis-lib(>=2) ← required by tis-app ← requested needs another version');
  });
  test('held package that already satisfies → kept, plan proceeds', () => {
    const repo = [c('tis-app 1-1', { depends: 'tis-lib(>=1)' }), c('tis-lib 2-1')];
    const plan = install(['tis-app'], repo, [inst('tis-lib 1-1', { held: true })]);
    expect(names(plan.order)).toEqual(['tis-app 1-1']);
  });
  test('--force on a held package → PACKAGE_HELD', () => {
    expect(thrown(() => install(['tis-lib'], [c('tis-lib 1-1')], [inst('tis-lib 1-1', { held: true })], true)).code).toBe('PACKAGE_HELD');
  });
});

describe('order: priority among independent packages', () => {
  test('required before standard before optional, then by name; dependencies still first', () => {
    const repo = [
      c('z-opt 1'),
      c('a-opt 1', { depends: 'm-dep' }),
      c('m-dep 1'),
      c('y-req 1', { priority: 'required' }),
      c('b-std 1', { priority: 'standard' }),
      c('q-weird 1', { priority: 'whatever' }),
    ];
    const plan = install(['z-opt', 'a-opt', 'y-req', 'b-std', 'q-weird'], repo);
    expect(plan.order.map((s) => s.package)).toEqual(['y-req', 'b-std', 'm-dep', 'a-opt', 'q-weird', 'z-opt']);
  });
});
