// Packages made by real WAPT (fixtures/conformance) open through every check
// and their member hashes match their own WAPT/manifest.sha256 (W-D1, W-D3).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PackageZip } from '../../src/package/zip-reader.js';

const root = path.resolve('fixtures/conformance');
const packages = readdirSync(root).flatMap((set) => {
  const repo = path.join(root, set, 'repo');
  return readdirSync(repo)
    .filter((f) => f.endsWith('.wapt'))
    .map((f) => [`${set}/${f}`, path.join(repo, f)] as const);
});
const NOT_LISTED = new Set(['WAPT/manifest.sha256', 'WAPT/signature.sha256', 'WAPT/manifest.sha1', 'WAPT/signature']);

it('finds the conformance packages', () => {
  expect(packages.length).toBeGreaterThanOrEqual(7);
});

describe.each(packages)('%s', (_title, file) => {
  it('opens, hashes every member, and the hashes equal its manifest (W-D3)', async () => {
    const zip = await PackageZip.open(file);
    try {
      const manifest = JSON.parse((await zip.readMember('WAPT/manifest.sha256', 1 << 20)).toString('utf8')) as [string, string][];
      const hashes = await zip.hashAllMembers();
      const listed = new Map(manifest);
      expect(listed.size).toBe(manifest.length);
      for (const [name, digest] of listed) expect([name, hashes.get(name)]).toEqual([name, digest]);
      const unlisted = [...hashes.keys()].filter((n) => !NOT_LISTED.has(n) && !listed.has(n));
      expect(unlisted).toEqual([]);
      expect(zip.has('WAPT/control')).toBe(true);
    } finally {
      zip.close();
    }
  });
});

it('reads the UTF-8 member name données/été.txt from the Python 2 WAPT package (W-A1b)', async () => {
  const zip = await PackageZip.open(path.join(root, 'wapt-made-py2/repo/tis-py2hello_1.0-1_PROD.wapt'));
  try {
    expect(zip.has('données/été.txt')).toBe(true);
  } finally {
    zip.close();
  }
});
