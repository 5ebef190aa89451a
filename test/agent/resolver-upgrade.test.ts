// resolve({kind:'upgrade'|'remove'}), upgradable(): W-G2 categories, W-F4 host packages, held, ERROR retried.
import { resolve } from '../../src/agent/resolver/index.js';
import type { Candidate, InstalledPkg } from '../../src/agent/resolver/index.js';
import { c, env, inst, names, thrown } from './resolver-builders.js';

const upgrade = (available: Candidate[], installed: InstalledPkg[], hostPackages: string[] = [], reqNames: string[] = []) =>
  resolve({ kind: 'upgrade', names: reqNames, hostPackages }, available, installed, env());

describe('upgrade with no names: everything NEED-UPGRADE, host packages, ERROR retried', () => {
  const repo = [
    c('tis-a 1.0-1'),
    c('tis-a 2.0-1', { depends: 'tis-newdep' }),
    c('tis-newdep 1-1'),
    c('tis-b 1.0-1'),
    c('tis-held 1.0-1'),
    c('tis-held 3.0-1'),
    c('tis-broken 1.0-1'),
    c('host-uuid-1 5', { section: 'host', depends: 'tis-hostdep,tis-b' }),
    c('tis-hostdep 1-1'),
  ];
  const installed = [inst('tis-a 1.0-1'), inst('tis-b 1.0-1'), inst('tis-held 1.0-1', { held: true }), inst('tis-broken 1.0-1', { status: 'ERROR' })];
  const plan = upgrade(repo, installed, ['host-uuid-1', 'host-missing']);

  test('newer eligible version → upgrade; its new dependency → additional', () => {
    expect(plan.upgrade.find((s) => s.package === 'tis-a')).toMatchObject({
      action: 'upgrade',
      fromVersion: '1.0-1',
      toVersion: '2.0-1',
      reason: 'upgrade',
      explicit: true,
    });
    expect(plan.additional.map((s) => [s.package, s.reason])).toEqual(
      expect.arrayContaining([
        ['tis-newdep', 'dependency of tis-a'],
        ['tis-hostdep', 'dependency of host-uuid-1'],
      ]),
    );
  });
  test('ERROR status → reinstall, reason retry after ERROR', () => {
    expect(plan.upgrade.find((s) => s.package === 'tis-broken')).toMatchObject({ action: 'reinstall', reason: 'retry after ERROR' });
  });
  test('held package is not upgraded and is listed under held with the reason', () => {
    expect(plan.upgrade.map((s) => s.package)).not.toContain('tis-held');
    expect(plan.held).toEqual([{ package: 'tis-held', reason: 'held at 1.0-1; 3.0-1 is available' }]);
  });
  test('W-F4 host package not installed → install (explicit), unknown host package → unavailable', () => {
    expect(plan.install).toMatchObject([{ package: 'host-uuid-1', reason: 'host package', explicit: true }]);
    expect(plan.unavailable).toEqual([{ request: 'host-missing', reason: expect.stringContaining('no package named host-missing') }]);
  });
  test('up-to-date packages are not touched and the order runs dependencies first', () => {
    expect(plan.order.map((s) => s.package)).not.toContain('tis-b');
    const order = plan.order.map((s) => s.package);
    expect(order.indexOf('tis-newdep')).toBeLessThan(order.indexOf('tis-a'));
    expect(order.indexOf('tis-hostdep')).toBeLessThan(order.indexOf('host-uuid-1'));
  });
});

describe('upgrade: what must not change', () => {
  test('a newer version needing a newer client → unavailable naming both versions, current kept', () => {
    const plan = upgrade([c('tis-a 1-1'), c('tis-a 2-1', { min_wapt_version: '9.0' })], [inst('tis-a 1-1')]);
    expect(plan.upgrade).toEqual([]);
    expect(plan.unavailable).toEqual([{ request: 'tis-a', reason: 'tis-a 2-1 needs wapt-get >= 9.0 (this is 2.3.0)' }]);
  });
  test('host package depending on a newer held version → host package unavailable, held listed, no throw', () => {
    const repo = [c('host-1 1', { depends: 'tis-lib(>=2)' }), c('tis-lib 2-1'), c('tis-other 2-1')];
    const plan = upgrade(repo, [inst('tis-lib 1-1', { held: true }), inst('tis-other 1-1')], ['host-1']);
    expect(plan.install).toEqual([]);
    expect(plan.unavailable[0]).toMatchObject({ request: 'host-1', reason: expect.stringContaining('tis-lib is held at 1-1') });
    expect(plan.held).toEqual(
      expect.arrayContaining([{ package: 'tis-lib', reason: expect.stringContaining('tis-lib(>=2) ← required by host-1 ← host package') }]),
    );
    expect(names(plan.upgrade)).toEqual(['tis-other 2-1']); // the rest of the upgrade goes on
  });
  test('an installed dependent bounds the upgrade of its dependency (tis-lib(<2) keeps tis-lib below 2)', () => {
    const repo = [c('tis-lib 1.0-1'), c('tis-lib 1.5-1'), c('tis-lib 2.0-1'), c('tis-app 1-1', { depends: 'tis-lib(<2)' })];
    const plan = upgrade(repo, [inst('tis-app 1-1'), inst('tis-lib 1.0-1', { explicit: false })]);
    expect(names(plan.upgrade)).toEqual(['tis-lib 1.5-1']);
  });
  test('upgrade of a named package that is not installed → NOT_INSTALLED', () => {
    expect(thrown(() => upgrade([c('tis-a 1')], [], [], ['tis-a'])).code).toBe('NOT_INSTALLED');
  });
  test('upgrade of a named held package → listed under held, nothing planned', () => {
    const plan = upgrade([c('tis-a 2')], [inst('tis-a 1', { held: true })], [], ['tis-a']);
    expect(plan.order).toEqual([]);
    expect(plan.held).toEqual([{ package: 'tis-a', reason: 'held at 1; 2 is available' }]);
  });
  test('upgrade whose new version conflicts with an installed package → that package removed first', () => {
    const plan = upgrade([c('tis-a 2', { conflicts: 'tis-old' }), c('tis-old 1')], [inst('tis-a 1'), inst('tis-old 1')]);
    expect(plan.order.map((s) => `${s.action} ${s.package}`)).toEqual(['remove tis-old', 'upgrade tis-a']);
  });
});

describe('NEED-UPGRADE is the upgrade plan (one answer, issue 9 case 12)', () => {
  test('strictly newer eligible versions only: held and re-signed equal versions are not upgrades', () => {
    const repo = [c('tis-a 2-1'), c('tis-b 1-1', { signature_date: '2030-01-01' }), c('tis-c 5-1'), c('tis-d 3-1', { maturity: 'DEV' })];
    const installed = [inst('tis-a 1-1'), inst('tis-b 1-1'), inst('tis-c 1-1', { held: true }), inst('tis-d 1-1')];
    expect(upgrade(repo, installed).order.map((s) => [s.package, s.fromVersion, s.toVersion])).toEqual([['tis-a', '1-1', '2-1']]);
  });
});

describe('pending removals (issue 9 cases 1, 2): a removal the admin asked for is never turned into an install', () => {
  const pending = (spec: string, over = {}) => inst(spec, { status: 'ERROR', pendingRemoval: true, ...over });
  test('upgrade plans the removal again, not an upgrade nor a retry of the install', () => {
    const plan = upgrade([c('tis-a 2-1')], [pending('tis-a 1-1')]);
    expect(plan.order).toEqual([{ action: 'remove', package: 'tis-a', fromVersion: '1-1', reason: 'retry pending removal', explicit: true }]);
  });
  test('held since: the pending removal waits and says so', () => {
    const plan = upgrade([c('tis-a 1-1')], [pending('tis-a 1-1', { held: true })]);
    expect(plan.order).toEqual([]);
    expect(plan.held).toEqual([{ package: 'tis-a', reason: 'held at 1-1; its pending removal waits until it is unheld' }]);
  });
  test('a dependent being upgraded never pulls a newer version of a package being removed', () => {
    const plan = upgrade([c('tis-app 2-1', { depends: 'tis-lib(>=2)' }), c('tis-lib 2-1')], [inst('tis-app 1-1'), pending('tis-lib 1-1')]);
    expect(plan.order.map((s) => `${s.action} ${s.package}`)).toEqual(['remove tis-lib']);
    expect(plan.unavailable).toEqual([{ request: 'tis-app', reason: expect.stringContaining('tis-lib 1-1 is being removed (pending removal)') }]);
  });
  test('an explicit install of it re-installs it (the admin changed their mind)', () => {
    const plan = resolve({ kind: 'install', names: ['tis-a'] }, [c('tis-a 1-1')], [pending('tis-a 1-1')], env());
    expect(plan.order.map((s) => `${s.action} ${s.package} ${s.reason}`)).toEqual(['reinstall tis-a requested (removal was pending)']);
  });
});

describe('remove: no cascade (as WAPT), dependents reported', () => {
  const installed = [inst('tis-lib 1-1'), inst('tis-app 1-1', { depends: 'tis-lib' }), inst('tis-helper 1-1', { explicit: false, dependsBy: 'tis-lib' })];
  test('removes only the named package and warns about dependents and orphans', () => {
    const plan = resolve({ kind: 'remove', names: ['tis-lib'] }, [], installed, env());
    expect(plan.remove).toEqual([{ action: 'remove', package: 'tis-lib', fromVersion: '1-1', reason: 'requested', explicit: true }]);
    expect(plan.warnings).toEqual([
      'tis-app depends on tis-lib and stays installed (remove does not cascade)',
      'tis-helper was installed as a dependency of tis-lib and may now be unused',
    ]);
  });
  test('removing a package and its dependent orders the dependent first', () => {
    const plan = resolve({ kind: 'remove', names: ['tis-lib', 'tis-app'] }, [], installed, env());
    expect(plan.order.map((s) => s.package)).toEqual(['tis-app', 'tis-lib']);
  });
  test('dependents found through the index entry when the DB row has no depends', () => {
    const plan = resolve({ kind: 'remove', names: ['tis-lib'] }, [c('tis-x 2-1', { depends: 'tis-lib' })], [inst('tis-lib 1-1'), inst('tis-x 2-1')], env());
    expect(plan.warnings).toEqual(['tis-x depends on tis-lib and stays installed (remove does not cascade)']);
  });
  test.each([
    ['held package → PACKAGE_HELD', ['tis-lib'], [inst('tis-lib 1-1', { held: true })], false, 'PACKAGE_HELD'],
    ['name not installed → NOT_INSTALLED', ['tis-nope'], installed, false, 'NOT_INSTALLED'],
    ['installed version not matching → NOT_INSTALLED', ['tis-lib(=2)'], installed, false, 'NOT_INSTALLED'],
  ])('%s', (_t, req, rows, force, code) => {
    expect(thrown(() => resolve({ kind: 'remove', names: req, force }, [], rows, env())).code).toBe(code);
  });
  test('--force skips names that are not installed', () => {
    const plan = resolve({ kind: 'remove', names: ['tis-nope'], force: true }, [], installed, env());
    expect(plan.skipped).toEqual([{ package: 'tis-nope', reason: 'tis-nope is not installed' }]);
  });
});
