import { createHash } from 'node:crypto';
import { controlFromObject } from '../../src/package/control.js';
import { packageFilename } from '../../src/package/filename.js';

const name = (obj: Record<string, string>) => packageFilename(controlFromObject(obj));

describe('packageFilename (W-A3)', () => {
  test.each([
    ['spec example with maturity', { package: 'tis-hello', version: '1.2.3-4', architecture: 'all', maturity: 'PROD' }, 'tis-hello_1.2.3-4_PROD.wapt'],
    [
      'spec example with arch, maturity, locale',
      { package: 'tis-extra', version: '0.9-2', architecture: 'x64', maturity: 'DEV', locale: 'fr' },
      'tis-extra_0.9-2_x64_DEV_fr.wapt',
    ],
    ['nothing optional', { package: 'tis-7zip', version: '9.2.0-15' }, 'tis-7zip_9.2.0-15.wapt'],
    ['architecture only', { package: 'tis-foo', version: '1.0-2', architecture: 'x64' }, 'tis-foo_1.0-2_x64.wapt'],
    [
      'locale list joined with "-"',
      { package: 'tis-ff', version: '102.0-1', architecture: 'x64', maturity: 'PROD', locale: 'fr, en' },
      'tis-ff_102.0-1_x64_PROD_fr-en.wapt',
    ],
    ['locale "all" left out', { package: 'tis-a', version: '1', locale: 'all' }, 'tis-a_1.wapt'],
    ['group section keeps its version', { package: 'tis-group-demo', version: '3-1', section: 'group', maturity: 'PROD' }, 'tis-group-demo_3-1_PROD.wapt'],
    [
      'host section: name only',
      { package: '4C4C4544-0044-4810-8033-B4C04F4A4B32', version: '12', section: 'host', architecture: 'x64' },
      '4C4C4544-0044-4810-8033-B4C04F4A4B32.wapt',
    ],
    ['-waptupgrade keeps "all"', { package: 'tis-waptupgrade', version: '2.0-1', architecture: 'all' }, 'tis-waptupgrade_2.0-1_all.wapt'],
    ['".." replaced by "_"', { package: 'tis-a', version: '1..2' }, 'tis-a_1_2.wapt'],
  ])('%s', (_t, obj, expected) => {
    expect(name(obj)).toBe(expected);
  });

  test('a name with other characters is replaced by the MD5 of its UTF-8 bytes', () => {
    const md5 = createHash('md5').update('tis-café', 'utf8').digest('hex');
    expect(md5).toMatch(/^[0-9a-f]{32}$/);
    expect(name({ package: 'tis-café', version: '1-1' })).toBe(`${md5}_1-1.wapt`);
    expect(name({ package: 'tis a', version: '1' })).toBe(`${createHash('md5').update('tis a').digest('hex')}_1.wapt`);
  });

  test('characters WAPT deletes from file names are removed', () => {
    expect(name({ package: 'tis-a', version: '1', maturity: 'PR(O)D', locale: 'f:r' })).toBe('tis-a_1_PROD_fr.wapt');
  });

  test.each([
    ['no package', { version: '1' }, /package/],
    ['no version outside host section', { package: 'tis-a' }, /version/],
  ])('bad input: %s', (_t, obj, msg) => {
    expect(() => name(obj)).toThrow(expect.objectContaining({ code: 'CONTROL_INVALID', message: expect.stringMatching(msg) }));
  });
  test('host packages need no version', () => {
    expect(name({ package: 'pc01.example.lan', section: 'host' })).toBe('pc01.example.lan.wapt');
  });
});
