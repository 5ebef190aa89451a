// Issue 12 §4: a rescan after one change re-reads and re-verifies only that package
// (W-F2 cache); every other entry is carried by the scan cache, its verified signer
// re-checked only through the (memoised) chain. Through the real CLI, with --json.
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildPackage } from '../../src/package/index.js';
import { runCli } from '../helpers/cli.js';
import { cleanupPki, getTestPki, signerOf, type TestPki } from '../helpers/pki.js';

/** One real package signed by the trusted code-signer. */
async function buildTestPackage(pki: TestPki, work: string, outDir: string, s: { name: string }): Promise<void> {
  const src = path.join(work, `src-${s.name}`);
  await mkdir(path.join(src, 'WAPT'), { recursive: true });
  const control = { package: s.name, version: '1.0-1', architecture: 'all', section: 'base', description: `test package ${s.name}` };
  await writeFile(
    path.join(src, 'WAPT', 'control'),
    Object.entries(control)
      .map(([k, v]) => `${k.padEnd(18)}: ${v}`)
      .join('\n'),
  );
  await mkdir(outDir, { recursive: true });
  await buildPackage(src, { signer: signerOf(pki.codesigner), outDir, date: new Date(), reproducible: false });
}

let pki: TestPki;
let work: string;
let repo: string;
const COUNT = 24;
const names = Array.from({ length: COUNT }, (_, i) => `tis-rescan${String(i).padStart(2, '0')}`);

beforeAll(async () => {
  pki = await getTestPki();
  work = await mkdtemp(path.join(os.tmpdir(), 'wapt-rescan-'));
  repo = path.join(work, 'repo');
  for (const n of names) await buildTestPackage(pki, work, repo, { name: n });
  await writeFile(path.join(work, 'empty.ini'), '[global]\n');
}, 120_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
  cleanupPki(pki);
});

const scan = async () => {
  const r = await runCli(['--json', '-c', path.join(work, 'empty.ini'), 'scanpackages', repo, '--trusted', pki.trustedDir]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { indexed: number; hashed: number; reused_from_cache: number; signatures_checked: number; written: boolean };
};

test('cold scan verifies every control signature; a rescan after touching one package re-verifies only that one (W-F2, W-E3)', async () => {
  const cold = await scan();
  expect(cold).toMatchObject({ indexed: COUNT, hashed: COUNT, reused_from_cache: 0, signatures_checked: COUNT, written: true });

  const same = await scan();
  expect(same).toMatchObject({ indexed: COUNT, hashed: 0, reused_from_cache: COUNT, signatures_checked: 0, written: false });

  const t = new Date(Date.now() - 60_000);
  await utimes(path.join(repo, `${names[7]}_1.0-1.wapt`), t, t);
  const one = await scan();
  expect(one).toMatchObject({ indexed: COUNT, hashed: 1, reused_from_cache: COUNT - 1, signatures_checked: 1 });
}, 120_000);

test('a package added after the cold scan is the only one read and verified', async () => {
  await scan();
  await buildTestPackage(pki, work, repo, { name: 'tis-rescan-new' });
  const r = await scan();
  expect(r).toMatchObject({ indexed: COUNT + 1, hashed: 1, reused_from_cache: COUNT, signatures_checked: 1, written: true });
}, 120_000);
