// W-C3/W-C4 host filters and W-B4/W-B4b choice of the best entry.
import { chooseBest, eligible, explain } from '../../src/agent/resolver/index.js';
import { c, env } from './resolver-builders.js';

describe('eligible: W-C4 filters, each refusal with its reason', () => {
  const refused: [string, Record<string, string>, Partial<ReturnType<typeof env>>, string][] = [
    ['maturity DEV not in PROD,(unset)', { maturity: 'DEV' }, {}, 'maturity DEV not accepted (accepted: PROD, (unset))'],
    ['W-C3 unset maturity when only DEV is accepted', { maturity: '' }, { maturities: ['DEV'] }, 'maturity (unset) not accepted (accepted: DEV)'],
    ['locale de on a fr,en host', { locale: 'de' }, {}, 'locale de is not among the host locales (fr, en)'],
    ['architecture x86 on an x64 host (WAPT does not mix them)', { architecture: 'x86' }, {}, 'architecture x86 does not match this host (x64)'],
    ['target_os linux on windows', { target_os: 'linux' }, {}, 'target_os linux does not include this host (windows)'],
    ['min_os_version above the host', { min_os_version: '11.0' }, {}, 'needs OS version >= 11.0 (this host: 10.0.19045)'],
    ['max_os_version below the host', { max_os_version: '6.3' }, {}, 'supports OS versions <= 6.3 only (this host: 10.0.19045)'],
    ['min_wapt_version above the client', { min_wapt_version: '3.0' }, {}, 'needs wapt-get >= 3.0 (this is 2.3.0)'],
    ['valid_until in the past', { valid_until: '2020-01-01' }, {}, 'expired on 2020-01-01 (valid_until)'],
    [
      'valid_until with a zone, one second ago',
      { valid_until: '2025-06-01T09:59:59Z' },
      { now: new Date(Date.UTC(2025, 5, 1, 10)) },
      'expired on 2025-06-01T09:59:59Z (valid_until)',
    ],
    ['valid_from in the future', { valid_from: '2099-01-01T00:00:00' }, {}, 'not valid before 2099-01-01T00:00:00 (valid_from)'],
    ['an invalid version', { version: '1.0-beta' }, {}, 'version "1.0-beta" is not valid (W-B1)'],
  ];
  test.each(refused)('refuses %s', (_title, fields, over, reason) => {
    expect(eligible(c('tis-app 1.0-1', fields), env(over))).toEqual({ ok: false, reason });
  });

  const accepted: [string, Record<string, string>, Partial<ReturnType<typeof env>>][] = [
    ['W-C3 unset maturity when PROD is accepted', { maturity: '' }, { maturities: ['PROD'] }],
    ['unset maturity when only (unset) is accepted', { maturity: '' }, { maturities: [''] }],
    ['any maturity when the accepted list is empty', { maturity: 'BETA' }, { maturities: [] }],
    ['DEV when DEV is accepted', { maturity: 'DEV' }, { maturities: ['PROD', 'DEV'] }],
    ['empty locale on any host', { locale: '' }, {}],
    ['locale list meeting the host', { locale: 'de,en' }, {}],
    ['any locale on a host without locales', { locale: 'de' }, { locales: [] }],
    ['architecture all', { architecture: 'all' }, {}],
    ['architecture x64 on x64', { architecture: 'x64' }, {}],
    ['target_os unix on linux', { target_os: 'unix' }, { os: 'linux' }],
    ['target_os list with windows', { target_os: 'linux,windows' }, {}],
    ['OS version bounds inclusive', { min_os_version: '10.0.19045', max_os_version: '10.0.19045' }, {}],
    ['min_wapt_version equal to the client', { min_wapt_version: '2.3' }, {}],
    ['inside the validity window', { valid_from: '2024-01-01', valid_until: '2026-01-01' }, {}],
  ];
  test.each(accepted)('accepts %s', (_title, fields, over) => {
    expect(eligible(c('tis-app 1.0-1', fields), env(over))).toEqual({ ok: true });
  });
});

describe('chooseBest: W-B4 highest satisfying, W-B4b ties', () => {
  const e = env();
  test('highest version satisfying every requirement, W-B4 order (1.10 > 1.2)', () => {
    const all = [c('tis-app 1.2-1'), c('tis-app 1.10-1'), c('tis-app 2.0-1'), c('tis-other 9-1')];
    const lt2 = { name: 'tis-app', op: '<' as const, version: '2', raw: 'tis-app(<2)' };
    expect(chooseBest('tis-app', [lt2], all, e)?.control.get('version')).toBe('1.10-1');
    expect(chooseBest('tis-app', [], all, e)?.control.get('version')).toBe('2.0-1');
  });
  test('an ineligible newer entry is passed over', () => {
    const all = [c('tis-app 1.0-1'), c('tis-app 2.0-1', { maturity: 'DEV' })];
    expect(chooseBest('tis-app', [], all, e)?.control.get('version')).toBe('1.0-1');
  });
  test('W-B4b: equal versions → the later signature_date wins, whatever the list order', () => {
    const jan = c('tis-app 1.0-1', { signature_date: '2024-01-10T10:00:00' }, { repo: 'jan' });
    const feb = c('tis-app 1.0.0.0-1', { signature_date: '2024-02-10T10:00:00' }, { repo: 'feb' });
    expect(chooseBest('tis-app', [], [feb, jan], e)?.repo).toBe('feb');
    expect(chooseBest('tis-app', [], [jan, feb], e)?.repo).toBe('feb');
  });
  test('same version and signature_date → the higher repository priority wins', () => {
    const low = c('tis-app 1.0-1', {}, { repo: 'low', repoPriority: 1 });
    const high = c('tis-app 1.0-1', {}, { repo: 'high', repoPriority: 5 });
    expect(chooseBest('tis-app', [], [low, high], e)?.repo).toBe('high');
  });
  test('same version in two locales → the host locale listed first (fr) wins', () => {
    const en = c('tis-app 1.0-1', { locale: 'en', signature_date: '2024-03-01' }, { repo: 'en' });
    const fr = c('tis-app 1.0-1', { locale: 'fr', signature_date: '2024-01-01' }, { repo: 'fr' });
    expect(chooseBest('tis-app', [], [en, fr], e)?.repo).toBe('fr');
  });
  test('no eligible entry → null', () => {
    expect(chooseBest('tis-app', [], [c('tis-app 1.0-1', { architecture: 'arm64' })], e)).toBeNull();
    expect(chooseBest('tis-none', [], [c('tis-app 1.0-1')], e)).toBeNull();
  });
});

describe('explain: every version and why one is chosen', () => {
  test('lists refused entries with their reasons and names the tie-break', () => {
    const all = [
      c('tis-app 1.0-1', { signature_date: '2024-01-01' }, { repo: 'old' }),
      c('tis-app 1.0-1', { signature_date: '2024-05-01' }, { repo: 'resigned' }),
      c('tis-app 2.0-1', { maturity: 'DEV' }, { repo: 'dev' }),
    ];
    const r = explain('tis-app', all, env());
    expect(r.chosen?.repo).toBe('resigned');
    expect(r.candidates.map((x) => [x.candidate.repo, x.eligible, x.reason])).toEqual([
      ['dev', false, 'maturity DEV not accepted (accepted: PROD, (unset))'],
      ['resigned', true, undefined],
      ['old', true, undefined],
    ]);
    expect(r.why).toContain('tis-app 1.0-1 (resigned) is the highest eligible version');
    expect(r.why).toContain('newer but not eligible: 2.0-1 (dev): maturity DEV not accepted');
    expect(r.why).toContain('preferred over 1.0-1 (old) of the same version by later signature_date (W-B4b)');
  });
  test('nothing eligible → chosen null and every reason', () => {
    const r = explain('tis-app', [c('tis-app 1.0-1', { min_wapt_version: '9' })], env());
    expect(r.chosen).toBeNull();
    expect(r.why).toBe('no eligible version: 1.0-1 (main): needs wapt-get >= 9 (this is 2.3.0)');
  });
  test('unknown name', () => {
    expect(explain('tis-nope', [c('tis-app 1.0-1')], env()).why).toBe('no package named tis-nope in the repositories');
  });
});
