// WAPT-made packages and indexes (fixtures/conformance): the control text must
// round-trip byte for byte, and our file names must be WAPT's.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { field, parseControl, serializeControl, validateControl } from '../../src/package/control.js';
import { packageFilename } from '../../src/package/filename.js';
import { parseRequirementList, satisfies } from '../../src/package/requirement.js';
import { compareVersions } from '../../src/package/version.js';

const ROOT = join(process.cwd(), 'fixtures', 'conformance');
const SETS = ['wapt-made', 'wapt-made-py2'];

function unzipMember(zip: string, member: string): string {
  return execFileSync('unzip', ['-p', zip, member]).toString('utf8');
}

const packages = SETS.flatMap((set) =>
  readdirSync(join(ROOT, set, 'repo'))
    .filter((f) => f.endsWith('.wapt'))
    .map((f) => join(ROOT, set, 'repo', f)),
);

const indexBlocks = SETS.flatMap((set) => {
  const text = unzipMember(join(ROOT, set, 'repo', 'Packages'), 'Packages');
  // W-F1: blocks separated by one empty line, the text ends with a single "\n".
  return text
    .replace(/\n$/, '')
    .split('\n\n')
    .map((block, i) => ({ name: `${set}/Packages entry ${i + 1}`, block }));
});

describe('conformance: WAPT/control of WAPT-made packages', () => {
  test('the fixture sets hold the seven packages', () => {
    expect(packages.map((p) => basename(p)).sort()).toEqual([
      'tis-extra_0.9-2_x64_DEV_fr.wapt',
      'tis-group-demo_3-1_PROD.wapt',
      'tis-hello_1.10.0-1_PROD.wapt',
      'tis-hello_1.2.3-4_PROD.wapt',
      'tis-py2extra_2.1-3_x64_PREPROD_fr.wapt',
      'tis-py2group_5_PROD.wapt',
      'tis-py2hello_1.0-1_PROD.wapt',
    ]);
  });

  test.each(packages.map((p) => [basename(p), p]))('W-C1/W-C2 %s: serializeControl(parseControl(x)) === x', (_n, file) => {
    const text = unzipMember(file, 'WAPT/control');
    const fields = parseControl(text, { source: file });
    expect(serializeControl(fields)).toBe(text);
    // and without the index fields option nothing index-only sneaks in
    expect(serializeControl(fields, { withIndexFields: true })).toBe(text);
  });

  test.each(packages.map((p) => [basename(p), p]))('W-A3 %s: packageFilename gives the name WAPT gave', (name, file) => {
    const fields = parseControl(unzipMember(file, 'WAPT/control'));
    expect(packageFilename(fields)).toBe(name);
  });

  test.each(packages.map((p) => [basename(p), p]))('W-C2/W-B1 %s: validates', (_n, file) => {
    expect(() => validateControl(parseControl(unzipMember(file, 'WAPT/control')))).not.toThrow();
  });

  test('W-C1: multi-line descriptions are read with "\\n" and stripped continuation lines', () => {
    const extra = packages.find((p) => basename(p).startsWith('tis-extra_'))!;
    const fields = parseControl(unzipMember(extra, 'WAPT/control'));
    expect(field(fields, 'description')).toBe(
      'Package without setup code, DEV maturity, fr locale\nSecond line of a multi-line description\nindented third line',
    );
    const py2 = packages.find((p) => basename(p).startsWith('tis-py2hello_'))!;
    expect(field(parseControl(unzipMember(py2, 'WAPT/control')), 'description')).toBe('Paquet de test été\nDeuxième ligne');
  });
});

describe('conformance: entries of the WAPT-made Packages indexes', () => {
  test('there are seven entries, each ending with filename/size/md5sum', () => {
    expect(indexBlocks).toHaveLength(7);
    for (const { block } of indexBlocks) expect(block).toMatch(/\nfilename {10}: \S+\.wapt\nsize {14}: \d+\nmd5sum {12}: [0-9a-f]{32}$/);
  });

  test.each(indexBlocks.map((b) => [b.name, b.block]))('W-F1 %s round-trips with withIndexFields', (name, block) => {
    const fields = parseControl(block, { source: name });
    expect(serializeControl(fields, { withIndexFields: true })).toBe(block);
  });

  test.each(indexBlocks.map((b) => [b.name, b.block]))('W-C2 %s without withIndexFields drops filename/size/md5sum only', (_n, block) => {
    const withoutIndex = block.replace(/\nfilename[\s\S]*$/, '');
    expect(serializeControl(parseControl(block))).toBe(withoutIndex);
  });

  test('W-F1: the filename field of each entry is the conventional name', () => {
    for (const { block } of indexBlocks) {
      const fields = parseControl(block);
      expect(packageFilename(fields)).toBe(field(fields, 'filename'));
    }
  });

  test('W-B5: the group packages depends are satisfied by the indexed versions', () => {
    const entries = indexBlocks.map(({ block }) => parseControl(block));
    for (const group of entries.filter((e) => field(e, 'section') === 'group')) {
      for (const req of parseRequirementList(field(group, 'depends'))) {
        const candidates = entries.filter((e) => field(e, 'package') === req.name);
        expect(candidates.length).toBeGreaterThan(0);
        expect(candidates.some((e) => satisfies(field(e, 'version'), req))).toBe(true);
      }
    }
  });

  test('W-B4: tis-hello 1.10.0-1 is newer than 1.2.3-4 in the index', () => {
    const versions = indexBlocks
      .map(({ block }) => parseControl(block))
      .filter((e) => field(e, 'package') === 'tis-hello')
      .map((e) => field(e, 'version'))
      .sort(compareVersions);
    expect(versions).toEqual(['1.2.3-4', '1.10.0-1']);
  });
});
