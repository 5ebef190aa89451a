// Issue 8 §4: the code-signing rule (W-D5) and the hook finder compare member names by
// one identity (case-folded, NFC, trailing dots/spaces dropped, as Windows and macOS
// resolve them), and a name that is a different file on another file system is refused
// (W-A1). Driven through the real binary: `wapt-get verify` and `install ./x.wapt`.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { cleanupPki, getTestPki, signerOf, type TestPki } from '../helpers/pki.js';
import { buildFromSpec, forgePackage, tempDir } from '../helpers/packages.js';

let pki: TestPki;
let work: string;
let codeFree: string; // deployer-signed, no setup code
let codeSigned: string; // code-signed, no setup code

beforeAll(async () => {
  pki = await getTestPki();
  work = tempDir('wapt-member-names-');
  codeFree = (
    await buildFromSpec({ control: { package: 'tis-names', version: '1.0-1' }, files: { 'data/a.txt': 'a\n' } }, signerOf(pki.deployer), { outDir: work })
  ).path;
  const cs = await buildFromSpec({ control: { package: 'tis-names-cs', version: '1.0-1' }, files: { 'data/a.txt': 'a\n' } }, signerOf(pki.codesigner), {
    outDir: join(work, 'cs'),
  });
  codeSigned = cs.path;
}, 120_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  cleanupPki(pki);
});

let n = 0;
/** A copy of `src` with `add` members, manifest recomputed and signed again by `who` (as the holder of that key could). */
async function forged(src: string, add: Record<string, string>, who: 'deployer' | 'codesigner'): Promise<string> {
  return forgePackage(src, join(work, `forged-${++n}.wapt`), { add }, { signer: signerOf(pki[who]) });
}

async function verifyJson(file: string): Promise<{ code: number | null; row: Record<string, unknown> }> {
  const r = await runCli(['--json', 'verify', '--trusted', pki.trustedDir, file]);
  const data = JSON.parse(r.stdout) as { results: Record<string, unknown>[] };
  return { code: r.code, row: data.results[0]! };
}

const HOOK = "import { writeFile } from 'node:fs/promises';\nexport async function install(h) { await writeFile(h.targetPath('ran.txt'), 'install ran'); }\n";

describe('W-D5: setup code is recognised by member identity, not exact spelling', () => {
  test.each([
    ['upper case SETUP.MJS', 'SETUP.MJS'],
    ['mixed case Setup.Mjs', 'Setup.Mjs'],
    ['trailing dot setup.mjs.', 'setup.mjs.'],
    ['trailing space setup.mjs␠', 'setup.mjs '],
    ['trailing dots and spaces setup.mjs. .', 'setup.mjs. .'],
    ['long s ſetup.mjs (NTFS upcases ſ to S)', '\u017fetup.mjs'],
    ['upper case SETUP.PY', 'SETUP.PY'],
    // red-team finding: HFS+ ignores these code points when it compares names
    ['zero-width joiner set\u200Dup.mjs (HFS+)', 'set\u200Dup.mjs'],
    ['left-to-right mark setup.MJS\u200E (HFS+)', 'setup.MJS\u200E'],
    ['byte order mark setup.mjs\uFEFF (HFS+)', 'setup.mjs\uFEFF'],
  ])('deployer-signed package whose setup code is named %s is refused as CODESIGNING_REQUIRED', async (_t, name) => {
    const file = await forged(codeFree, { [name]: HOOK }, 'deployer');
    const { code, row } = await verifyJson(file);
    expect(row).toMatchObject({ ok: false, code: 'CODESIGNING_REQUIRED' });
    expect(code).toBe(3);
  });

  test('genuine: a deployer-signed package with look-alike but distinct names (setup.mjs.txt, data/setup.mjs) verifies as code-free', async () => {
    const file = await forged(codeFree, { 'setup.mjs.txt': 'notes\n', 'data/setup.mjs': 'not at the root\n', setupmjs: 'x\n' }, 'deployer');
    const { code, row } = await verifyJson(file);
    expect(row).toMatchObject({ ok: true, setup: 'none', code_signing: false });
    expect(code).toBe(0);
  });
});

describe('W-A1: a member name that is another file on another file system is refused at verify', () => {
  test.each([
    ['trailing dot data/a.txt.', 'data/b.txt.'],
    ['trailing space data/b.txt␠', 'data/b.txt '],
    ['trailing dot in a directory segment dir./x', 'dir./x.txt'],
    ['reserved device name CON', 'CON'],
    ['reserved device name with extension data/nul.txt', 'data/nul.txt'],
    ['reserved device name COM1', 'data/com1'],
    ['reserved device name LPT9.log', 'LPT9.log'],
    ['reserved device name with superscript COM¹', 'COM\u00b9'],
    ['character Windows refuses: a?b', 'a?b.txt'],
    ['character Windows refuses: a*b', 'a*b.txt'],
    ['character Windows refuses: a<b>', 'a<b>.txt'],
    ['character Windows refuses: a|b', 'a|b.txt'],
  ])('%s → ZIP_NONPORTABLE_NAME', async (_t, name) => {
    const file = await forged(codeSigned, { [name]: 'x\n' }, 'codesigner');
    const { code, row } = await verifyJson(file);
    expect(row).toMatchObject({ ok: false, code: 'ZIP_NONPORTABLE_NAME' });
    expect(String(row.message)).toContain(JSON.stringify(name));
    expect(code).toBe(3);
  });

  test('colon (alternate data stream on NTFS) data/a.txt:evil → ZIP_UNSAFE_PATH', async () => {
    const file = await forged(codeSigned, { 'data/b.txt:evil': 'x\n' }, 'codesigner');
    expect((await verifyJson(file)).row).toMatchObject({ ok: false, code: 'ZIP_UNSAFE_PATH' });
  });

  test.each([
    ['case: data/A.txt beside data/a.txt', 'data/A.txt', ''],
    ['Unicode normalisation: NFD é beside NFC é', 'data/e\u0301.txt', 'data/\u00e9.txt'],
    ['long s: ſetup.txt beside setup.txt', '\u017fetup.txt', 'setup.txt'],
  ])('two members that collide after folding (%s) → ZIP_DUPLICATE_ENTRY', async (_t, a, b) => {
    const add: Record<string, string> = { [a]: 'one\n' };
    if (b) add[b] = 'two\n';
    const file = await forged(codeSigned, add, 'codesigner');
    expect((await verifyJson(file)).row).toMatchObject({ ok: false, code: 'ZIP_DUPLICATE_ENTRY' });
  });

  test('genuine: names close to the refused ones (console.txt, nul_backup, comma,txt, ..hidden) verify', async () => {
    const file = await forged(
      codeSigned,
      { 'console.txt': 'x', 'data/nul_backup': 'x', 'data/comma,txt': 'x', 'data/..hidden': 'x', com10: 'x' },
      'codesigner',
    );
    expect((await verifyJson(file)).row).toMatchObject({ ok: true });
  });
});

describe('the hook finder uses the same identity as the rule', () => {
  let env: AgentEnv;
  beforeAll(async () => {
    env = await makeAgentEnv();
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  test('a code-signed package whose setup code is named SETUP.MJS: verify says setup mjs, install runs its install()', async () => {
    const file = await forged(codeSigned, { 'SETUP.MJS': HOOK }, 'codesigner');
    expect((await verifyJson(file)).row).toMatchObject({ ok: true, setup: 'mjs' });
    const r = await env.run(['install', file]);
    expect(r.stderr + r.stdout).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(readFileSync(join(env.userRoot, 'ran.txt'), 'utf8')).toBe('install ran');
  });
});
