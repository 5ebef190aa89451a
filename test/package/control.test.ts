import { WaptError } from '../../src/errors.js';
import { controlFromObject, field, parseControl, serializeControl, validateControl, withDefaults } from '../../src/package/control.js';
import {
  ALWAYS_WRITTEN_FIELDS,
  CANONICAL_ORDER,
  INDEX_ONLY_FIELDS,
  LEGACY_SIGNED_ATTRIBUTES,
  SECTIONS,
  SIGNATURE_FIELDS,
} from '../../src/package/control-fields.js';

function thrown(fn: () => unknown): WaptError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WaptError) return err;
    throw err;
  }
  throw new Error('expected a WaptError');
}

describe('control-fields', () => {
  test('W-C2: 43 canonical attributes, required first, signature last', () => {
    expect(CANONICAL_ORDER).toHaveLength(43);
    expect(CANONICAL_ORDER.slice(0, 5)).toEqual(['package', 'version', 'architecture', 'section', 'priority']);
    expect(CANONICAL_ORDER.slice(-5)).toEqual([...SIGNATURE_FIELDS]);
    expect(CANONICAL_ORDER).not.toContain('filename');
    expect(ALWAYS_WRITTEN_FIELDS).toHaveLength(42);
    expect(ALWAYS_WRITTEN_FIELDS).not.toContain('signature');
  });
  test('W-C2/W-E3/W-C3: index-only, legacy and section lists', () => {
    expect(INDEX_ONLY_FIELDS).toEqual(['filename', 'size', 'md5sum', 'sha256']);
    expect(LEGACY_SIGNED_ATTRIBUTES).toEqual(['package', 'version', 'architecture', 'section', 'priority', 'depends', 'conflicts', 'maturity']);
    expect(SECTIONS).toEqual(['base', 'restricted', 'group', 'host', 'unit', 'profile', 'wsus', 'selfservice']);
  });
});

describe('parseControl (W-C1)', () => {
  test('keys are lowercased and trimmed, values stripped, first ":" splits', () => {
    const f = parseControl('Package : tis-a\nVERSION:1.0-1\nsources   :  https://example.org/x  ');
    expect([...f.entries()]).toEqual([
      ['package', 'tis-a'],
      ['version', '1.0-1'],
      ['sources', 'https://example.org/x'],
    ]);
  });
  test('continuation lines are stripped and joined with "\\n"', () => {
    const f = parseControl('description : one\n two\n    three  \nmaturity : PROD');
    expect(field(f, 'description')).toBe('one\ntwo\nthree');
    expect(field(f, 'maturity')).toBe('PROD');
  });
  test('parsing stops at the first empty or whitespace-only line', () => {
    expect([...parseControl('package : a\n\npackage : b').keys()]).toEqual(['package']);
    expect([...parseControl('package : a\n  \t\nversion : 2').keys()]).toEqual(['package']);
    expect(parseControl('').size).toBe(0);
  });
  test('CRLF line ends are accepted', () => {
    const f = parseControl('package : a\r\ndescription : x\r\n y\r\nversion : 1\r\n');
    expect(field(f, 'description')).toBe('x\ny');
    expect(field(f, 'version')).toBe('1');
  });
  test('unknown keys are kept in read order; empty values kept as ""', () => {
    const f = parseControl('package : a\nlocalpath : /srv/x.wapt\nname : ');
    expect([...f.keys()]).toEqual(['package', 'localpath', 'name']);
    expect(f.get('name')).toBe('');
  });
  test('a tab-led line is not a continuation (WAPT only counts a space)', () => {
    expect(field(parseControl('package : a\n\tversion : 1'), 'version')).toBe('1');
  });
  test('bad input: a line without ":" names its line number', () => {
    const e = thrown(() => parseControl('package : a\nthis is not a field', { source: 'x/WAPT/control' }));
    expect(e.code).toBe('CONTROL_PARSE');
    expect(e.detail).toMatchObject({ line: 2, source: 'x/WAPT/control' });
    expect(e.message).toContain('x/WAPT/control:2');
  });
  test('bad input: a continuation line with no field before it', () => {
    const e = thrown(() => parseControl(' orphan\npackage : a'));
    expect(e.code).toBe('CONTROL_PARSE');
    expect(e.detail).toMatchObject({ line: 1 });
  });
  test('bad input: a duplicate field names the field and line', () => {
    const e = thrown(() => parseControl('package : a\nversion : 1\nPackage : b'));
    expect(e.code).toBe('CONTROL_PARSE');
    expect(e.detail).toMatchObject({ line: 3, field: 'package' });
  });
  test('bad input: ": value" with an empty key', () => {
    expect(thrown(() => parseControl('package : a\n: value')).detail).toMatchObject({ line: 2 });
  });
});

describe('serializeControl (W-C1/W-C2)', () => {
  const minimal = controlFromObject({ package: 'tis-a', version: '1.0-1' });

  test('writes the 42 always-written attributes, `%-18s: %s`, no trailing newline', () => {
    const text = serializeControl(minimal);
    const lines = text.split('\n');
    expect(lines).toHaveLength(42);
    expect(lines[0]).toBe('package           : tis-a');
    expect(lines[5]).toBe('name              : ');
    expect(lines).toContain('signer_fingerprint: ');
    expect(text.endsWith('\n')).toBe(false);
    expect(lines.map((l) => l.slice(0, 18).trim())).toEqual(ALWAYS_WRITTEN_FIELDS);
  });
  test('W-C3: absent architecture/section/priority are written with their defaults', () => {
    const f = parseControl(serializeControl(minimal));
    expect([field(f, 'architecture'), field(f, 'section'), field(f, 'priority')]).toEqual(['all', 'base', 'optional']);
  });
  test('signature is written only when set, between signer_fingerprint and signature_date', () => {
    expect(serializeControl(minimal)).not.toContain('signature         :');
    const signed = new Map(minimal).set('signature', 'QUJD');
    const lines = serializeControl(signed).split('\n');
    expect(lines).toHaveLength(43);
    expect(lines[40]).toBe('signature         : QUJD');
    expect(lines[39]!.startsWith('signer_fingerprint')).toBe(true);
  });
  test('canonical order wins over the read order', () => {
    const f = parseControl('version : 2\nmaturity : PROD\npackage : b');
    const lines = serializeControl(f).split('\n');
    expect(lines[0]).toBe('package           : b');
    expect(lines[1]).toBe('version           : 2');
  });
  test('multi-line values: a space is inserted after "\\n" followed by non-whitespace (and round-trip)', () => {
    const f = new Map(minimal).set('description', 'first\nsecond\nthird');
    const text = serializeControl(f);
    expect(text).toContain('description       : first\n second\n third\n');
    expect(field(parseControl(text), 'description')).toBe('first\nsecond\nthird');
  });
  test('WAPT quirk kept: "\\n" followed by a space is written unchanged', () => {
    const f = new Map(minimal).set('description', 'a\n  b');
    expect(serializeControl(f)).toContain('description       : a\n  b\n');
  });
  test('unknown keys are dropped, as WAPT does; withUnknownFields keeps them after the canonical ones', () => {
    const f = new Map(minimal).set('localpath', '/srv/a.wapt').set('x-note', 'hi');
    expect(serializeControl(f)).not.toContain('localpath');
    const kept = serializeControl(f, { withUnknownFields: true }).split('\n');
    expect(kept.slice(-2)).toEqual(['localpath         : /srv/a.wapt', 'x-note            : hi']);
  });
  test('index fields: only with withIndexFields, last, in order filename,size,md5sum,sha256, empty ones left out', () => {
    const f = new Map(minimal)
      .set('sha256', 'ab'.repeat(32))
      .set('md5sum', '0'.repeat(32))
      .set('size', '')
      .set('filename', 'tis-a_1.0-1.wapt')
      .set('x-extra', 'y');
    expect(serializeControl(f)).not.toContain('filename');
    const lines = serializeControl(f, { withIndexFields: true, withUnknownFields: true }).split('\n');
    expect(lines.slice(-4)).toEqual([
      'x-extra           : y',
      'filename          : tis-a_1.0-1.wapt',
      `md5sum            : ${'0'.repeat(32)}`,
      `sha256            : ${'ab'.repeat(32)}`,
    ]);
  });
});

describe('validateControl', () => {
  const ok = { package: 'tis-a', version: '1.0-1', section: 'base', depends: 'tis-b(>=1),tis-c' };
  test('a good control passes; host UUID and FQDN names pass', () => {
    expect(() => validateControl(controlFromObject(ok))).not.toThrow();
    expect(() => validateControl(controlFromObject({ ...ok, package: '4C4C4544-0044-4810-8033-B4C04F4A4B32', section: 'host' }))).not.toThrow();
    expect(() => validateControl(controlFromObject({ ...ok, package: 'pc01.example.lan', section: 'host' }))).not.toThrow();
  });
  test.each([
    ['missing package', { version: '1' }, 'CONTROL_INVALID', 'package'],
    ['empty version', { package: 'a', version: '' }, 'CONTROL_INVALID', 'version'],
    ['non-integer packaging', { package: 'a', version: '1.0-a' }, 'VERSION_INVALID', 'version'],
    ['space in the name', { package: 'tis a', version: '1' }, 'CONTROL_INVALID', 'package'],
    ['slash in the name', { package: 'tis/a', version: '1' }, 'CONTROL_INVALID', 'package'],
    ['unknown section', { package: 'a', version: '1', section: 'software' }, 'CONTROL_INVALID', 'section'],
    ['malformed depends', { package: 'a', version: '1', depends: 'b(>=)' }, 'REQUIREMENT_INVALID', 'depends'],
    ['malformed conflicts', { package: 'a', version: '1', conflicts: 'b(=>1)' }, 'REQUIREMENT_INVALID', 'conflicts'],
  ])('bad input: %s', (_t, obj, code, key) => {
    const e = thrown(() => validateControl(controlFromObject(obj as Record<string, string>)));
    expect(e.code).toBe(code);
    expect(e.detail.field).toBe(key);
    expect(e.message).toContain(key);
  });
  test.each([...SECTIONS])('section %s is accepted', (section) => {
    expect(() => validateControl(controlFromObject({ ...ok, section }))).not.toThrow();
  });
});

describe('helpers', () => {
  test('field returns "" when absent and is case-insensitive on the key', () => {
    const f = controlFromObject({ Package: 'a' });
    expect(field(f, 'PACKAGE')).toBe('a');
    expect(field(f, 'maturity')).toBe('');
  });
  test('W-C3 withDefaults fills absent or empty values on a copy only', () => {
    const f = controlFromObject({ package: 'a', section: '', priority: 'standard' });
    const d = withDefaults(f);
    expect([field(d, 'architecture'), field(d, 'section'), field(d, 'priority')]).toEqual(['all', 'base', 'standard']);
    expect(f.has('architecture')).toBe(false);
    expect(f.get('section')).toBe('');
  });
});
