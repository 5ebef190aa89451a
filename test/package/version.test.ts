import { WaptError } from '../../src/errors.js';
import { compareMember, compareSoft, compareVersions, parseVersion } from '../../src/package/version.js';

// [a, expected sign of compare(a, b), b]
const ORDER: [string, -1 | 0 | 1, string][] = [
  // W-B4 spec examples
  ['1.2.3-4', -1, '1.10.0-1'],
  ['7', 0, '7.0.0.0'],
  ['1.2.3.4.5', 0, '1.2.3.4'],
  ['1.0', -1, '1.0-0'],
  // W-B2: padding and truncation
  ['7', 0, '7.0'],
  ['1.0', 0, '1'],
  ['1.2.3.4.9', 0, '1.2.3.4.1'],
  ['1.2.3.5.1', 1, '1.2.3.4.9'],
  ['1.0.0.0-2', 0, '1-2'],
  ['2', 1, '1.99.99.99-99'],
  // W-B3: members compare as integers, not as text
  ['1.9', -1, '1.10'],
  ['10.0', 1, '9.9'],
  ['1.2.10', 1, '1.2.9'],
  ['0.9-2', -1, '0.10-1'],
  // leading zeros
  ['1.01', 0, '1.1'],
  ['1.010', 0, '1.10'],
  ['007-1', 0, '7-1'],
  ['1.0-01', 0, '1.0-1'],
  // W-B4: packaging
  ['1.0-1', -1, '1.0-2'],
  ['1.0-9', -1, '1.0-10'],
  ['1.0-100', 1, '1.0-99'],
  ['1.0-0', 1, '1.0'],
  ['1.0.1', 1, '1.0-99'],
  ['5', -1, '5-1'],
  ['5-1', 0, '5-1'],
  // W-B3: text parts
  ['1.2rc1', -1, '1.2rc2'],
  ['1.2rc2', -1, '1.2rc10'],
  ['1.2beta', -1, '1.2rc'],
  ['1.2alpha3', -1, '1.2beta1'],
  ['1.2', -1, '1.2rc1'], // "2" is a prefix of "2rc1"
  ['1.2a', -1, '1.2a1'],
  ['1.2a1', -1, '1.2b'],
  ['1.2rc1', -1, '1.3'],
  ['1.2rc1-3', 1, '1.2rc1-2'],
  ['1.b', 1, '1.a'],
  ['1.a', -1, '1.aa'],
  ['1.a', 1, '1.0'], // text "a" vs "" then number: "" < "a"
  ['1.x10', 1, '1.x9'],
  // case-insensitivity of text parts
  ['1.2RC1', 0, '1.2rc1'],
  ['1.2Beta', -1, '1.2RC'],
  ['1.0B', 0, '1.0b'],
  // large numbers stay exact
  ['1.20230101000000000001', 1, '1.20230101000000000000'],
  ['99999999999999999999', -1, '100000000000000000000'],
  // members trimmed (W-B2)
  ['1. 2', 0, '1.2'],
];

describe('compareVersions (W-B1..W-B4)', () => {
  test('the table holds at least 40 pairs', () => {
    expect(ORDER.length).toBeGreaterThanOrEqual(40);
  });
  test.each(ORDER)('%s <=> %s', (a, expected, b) => {
    expect(compareVersions(a, b)).toBe(expected);
  });
  test.each(ORDER)('antisymmetry: %s vs %s', (a, expected, b) => {
    expect(compareVersions(b, a)).toBe(-expected === 0 ? 0 : -expected);
  });
  test('parsed versions compare like their text', () => {
    expect(compareVersions(parseVersion('1.2.3-4'), '1.10.0-1')).toBe(-1);
    expect(compareVersions(parseVersion('7'), parseVersion('7.0.0.0'))).toBe(0);
  });
  test('sorting with compareVersions gives the natural order', () => {
    const sorted = ['1.10', '1.0-0', '1.2rc1', '1.0', '1.2', '1.9-3', '1.2-1'].sort(compareVersions);
    expect(sorted).toEqual(['1.0', '1.0-0', '1.2', '1.2-1', '1.2rc1', '1.9-3', '1.10']);
  });
  test('transitivity on a chain', () => {
    const chain = ['0.9', '1.0', '1.0-0', '1.0-1', '1.0.1', '1.2beta', '1.2rc1', '1.10', '2'];
    for (let i = 0; i < chain.length; i++) for (let j = i + 1; j < chain.length; j++) expect(compareVersions(chain[i]!, chain[j]!)).toBe(-1);
  });
});

describe('parseVersion (W-B1/W-B2)', () => {
  test('splits at the first "-", pads the software part to 4 members', () => {
    expect(parseVersion('1.2-3')).toEqual({ soft: ['1', '2', '0', '0'], packaging: 3, raw: '1.2-3' });
    expect(parseVersion(' 102.0.1 ')).toEqual({ soft: ['102', '0', '1', '0'], packaging: null, raw: '102.0.1' });
    expect(parseVersion('1.2.3.4.5-0').soft).toEqual(['1', '2', '3', '4']);
    expect(parseVersion('1.2rc1').soft).toEqual(['1', '2rc1', '0', '0']);
  });
  test.each([
    ['empty', '', /empty/],
    ['spaces only', '   ', /whitespace/],
    ['non-integer packaging', '1.0-a', /packaging "a".*integer/],
    ['packaging with a second dash', '1.0-1-2', /packaging "1-2"/],
    ['empty packaging', '1.0-', /packaging "".*integer/],
    ['negative-looking packaging', '1.0--1', /packaging "-1"/],
    ['no software part', '-3', /no software version/],
    ['empty member', '1..2', /empty member/],
    ['trailing dot', '1.2.', /empty member/],
    ['space inside a member', '1.2 3', /member "2 3"/],
    ['parenthesis', '1.(2)', /member/],
    ['comma', '1,2', /member "1,2"/],
    ['huge packaging', '1-99999999999999999999', /too large/],
  ])('bad input: %s', (_t, s, msg) => {
    let err: unknown;
    try {
      parseVersion(s);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WaptError);
    expect((err as WaptError).code).toBe('VERSION_INVALID');
    expect((err as WaptError).message).toMatch(msg);
  });
  test('compareVersions throws VERSION_INVALID for a malformed side', () => {
    expect(() => compareVersions('1.0', '1.0-x')).toThrow(expect.objectContaining({ code: 'VERSION_INVALID' }));
  });
});

describe('compareMember (W-B3)', () => {
  test.each([
    ['rc1', 'RC1', 0],
    ['10', '9', 1],
    ['', '0', -1],
    ['a', 'a0', -1],
    ['0a', '00a', 0],
  ] as const)('%s vs %s', (a, b, expected) => {
    expect(compareMember(a, b)).toBe(expected);
    expect(compareMember(b, a)).toBe(expected === 0 ? 0 : -expected);
  });
});

describe('compareSoft (W-C4 OS versions)', () => {
  test.each([
    ['10.0.19041', '10.0.19045', -1],
    ['10', '10.0.0.0', 0],
    ['6.1', '10.0', -1],
    ['5.15.0-91-generic', '5.15.0-100-generic', -1], // lenient: any text, "-" included
    ['11.2', '11.10', -1],
    ['1.8', '1.8.0.0', 0],
    ['2.0', '1.8.2.7354', 1],
  ] as const)('%s vs %s', (a, b, expected) => {
    expect(compareSoft(a, b)).toBe(expected);
    expect(compareSoft(b, a)).toBe(expected === 0 ? 0 : -expected);
  });
  test('"-" is plain text inside a member, compared naturally', () => {
    expect(compareSoft('1.0-2', '1.0-10')).toBe(-1);
  });
  test('bad input: an empty OS version', () => {
    expect(() => compareSoft('', '1')).toThrow(expect.objectContaining({ code: 'VERSION_INVALID' }));
    expect(() => compareSoft('1', '  ')).toThrow(expect.objectContaining({ code: 'VERSION_INVALID' }));
  });
});
