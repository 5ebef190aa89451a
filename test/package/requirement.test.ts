import { WaptError } from '../../src/errors.js';
import { formatRequirement, parseRequirement, parseRequirementList, satisfies, type Requirement } from '../../src/package/requirement.js';

const VALID: [string, Pick<Requirement, 'name' | 'op' | 'version'>, string][] = [
  ['tis-hello', { name: 'tis-hello', op: null, version: null }, 'tis-hello'],
  ['  tis-hello  ', { name: 'tis-hello', op: null, version: null }, 'tis-hello'],
  ['tis-hello(>=1.2)', { name: 'tis-hello', op: '>=', version: '1.2' }, 'tis-hello(>=1.2)'],
  ['tis-hello (>= 1.2)', { name: 'tis-hello', op: '>=', version: '1.2' }, 'tis-hello(>=1.2)'],
  ['tis-hello( >= 1.2 )', { name: 'tis-hello', op: '>=', version: '1.2' }, 'tis-hello(>=1.2)'],
  ['tis-hello(=1.2-3)', { name: 'tis-hello', op: '=', version: '1.2-3' }, 'tis-hello(=1.2-3)'],
  ['tis-hello(==1.2)', { name: 'tis-hello', op: '=', version: '1.2' }, 'tis-hello(=1.2)'],
  ['tis-hello(1.2)', { name: 'tis-hello', op: '=', version: '1.2' }, 'tis-hello(=1.2)'],
  ['tis-hello(<=2)', { name: 'tis-hello', op: '<=', version: '2' }, 'tis-hello(<=2)'],
  ['tis-hello(<2)', { name: 'tis-hello', op: '<', version: '2' }, 'tis-hello(<2)'],
  ['tis-hello(>1.0-1)', { name: 'tis-hello', op: '>', version: '1.0-1' }, 'tis-hello(>1.0-1)'],
  ['tis-hello=1.2-3', { name: 'tis-hello', op: '=', version: '1.2-3' }, 'tis-hello(=1.2-3)'],
  ['tis-hello==1.2', { name: 'tis-hello', op: '=', version: '1.2' }, 'tis-hello(=1.2)'],
  ['tis-hello>=1.2', { name: 'tis-hello', op: '>=', version: '1.2' }, 'tis-hello(>=1.2)'],
  ['tis-hello = 1.2', { name: 'tis-hello', op: '=', version: '1.2' }, 'tis-hello(=1.2)'],
  ['tis-7zip.x64_v2~a+b', { name: 'tis-7zip.x64_v2~a+b', op: null, version: null }, 'tis-7zip.x64_v2~a+b'],
  ['4C4C4544-0044-4810-8033-B4C04F4A4B32', { name: '4C4C4544-0044-4810-8033-B4C04F4A4B32', op: null, version: null }, '4C4C4544-0044-4810-8033-B4C04F4A4B32'],
];

const INVALID: [string, string, RegExp][] = [
  ['empty', '', /empty/],
  ['whitespace only', '   ', /empty/],
  ['no name', '(>=1.2)', /package name/],
  ['empty parentheses', 'tis-a()', /no version/],
  ['operator without version', 'tis-a(>=)', /no version/],
  ['reversed operator =>', 'tis-a(=>1.2)', /unknown operator "=>"/],
  ['operator <>', 'tis-a(<>1.2)', /unknown operator "<>"/],
  ['unclosed parenthesis', 'tis-a(>=1.2', /expected name/],
  ['space inside the name', 'tis a', /expected name/],
  ['space inside the version', 'tis-a(>=1. 2)', /expected name/],
  ['non-integer packaging', 'tis-a(>=1.0-rc)', /packaging "rc"/],
  ['trailing garbage', 'tis-a(>=1.0) extra', /expected name/],
  ['shorthand without version', 'tis-a>=', /expected name/],
];

describe('parseRequirement (W-B5, X4)', () => {
  test.each(VALID)('%j', (text, expected, formatted) => {
    const r = parseRequirement(text);
    expect({ name: r.name, op: r.op, version: r.version }).toEqual(expected);
    expect(r.raw).toBe(text.trim());
    expect(formatRequirement(r)).toBe(formatted);
    // the canonical text reads back to the same requirement
    expect(parseRequirement(formatted)).toMatchObject(expected);
  });
  test.each(INVALID)('bad input: %s', (_t, text, msg) => {
    let err: unknown;
    try {
      parseRequirement(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WaptError);
    expect((err as WaptError).code).toBe('REQUIREMENT_INVALID');
    expect((err as WaptError).message).toMatch(msg);
  });
  test('WAPT 2 {package_uuid} request', () => {
    const r = parseRequirement('{91345159-F81D-4351-ACDF-2FA5BC8924B3}');
    expect(r).toMatchObject({ name: '', op: null, version: null, packageUuid: '91345159-f81d-4351-acdf-2fa5bc8924b3' });
    expect(formatRequirement(r)).toBe('{91345159-f81d-4351-acdf-2fa5bc8924b3}');
  });
});

describe('parseRequirementList', () => {
  test('comma list, items trimmed, empty items dropped', () => {
    const list = parseRequirementList(' tis-py2hello(>=1.0), tis-py2extra ,,');
    expect(list.map(formatRequirement)).toEqual(['tis-py2hello(>=1.0)', 'tis-py2extra']);
  });
  test('empty or whitespace gives []', () => {
    expect(parseRequirementList('')).toEqual([]);
    expect(parseRequirementList('  ')).toEqual([]);
    expect(parseRequirementList(' , ')).toEqual([]);
  });
  test('bad input: one bad item fails the list', () => {
    expect(() => parseRequirementList('tis-a,tis-b(>=)')).toThrow(expect.objectContaining({ code: 'REQUIREMENT_INVALID' }));
  });
});

const SATISFIES: [string, string, boolean][] = [
  ['tis-a', '0.1', true],
  ['tis-a(>=1.0)', '1.0-1', true], // no packaging in the requirement: software part only
  ['tis-a(=1.2)', '1.2-7', true],
  ['tis-a(=1.2)', '1.2.0.0-1', true],
  ['tis-a(=1.2)', '1.2.1-1', false],
  ['tis-a(>1.0)', '1.0-5', false], // 1.0 == 1.0 on the software part
  ['tis-a(>1.0-4)', '1.0-5', true],
  ['tis-a(>1.0-5)', '1.0-5', false],
  ['tis-a(=1.0-5)', '1.0-5', true],
  ['tis-a(=1.0-5)', '1.0-6', false],
  ['tis-a(<=1.0-5)', '1.0', true], // no packaging < any packaging
  ['tis-a(>=1.0-0)', '1.0', false],
  ['tis-a(<2)', '1.99.99-100', true],
  ['tis-a(<2)', '2.0-1', false],
  ['tis-a(>=1.2)', '1.10.0-1', true],
  ['tis-a(<=1.2)', '1.10.0-1', false],
  ['tis-a=1.2-3', '1.2-3', true],
  ['tis-a( >= 1.2 )', '1.3-1', true],
  ['tis-a(>=1.2rc1)', '1.2', false],
  ['tis-a(>=1.2rc1)', '1.2RC2-1', true],
  ['{91345159-f81d-4351-acdf-2fa5bc8924b3}', '9.9', true],
];

describe('satisfies (W-B5)', () => {
  test.each(SATISFIES)('%s by %s → %s', (req, version, expected) => {
    expect(satisfies(version, parseRequirement(req))).toBe(expected);
  });
  test('bad input: a malformed candidate version throws VERSION_INVALID', () => {
    expect(() => satisfies('1.0-x', parseRequirement('tis-a(>=1)'))).toThrow(expect.objectContaining({ code: 'VERSION_INVALID' }));
  });
});
