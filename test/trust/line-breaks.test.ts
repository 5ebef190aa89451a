// Issue 8 §8 / W-C1: a control value holding a character Python's splitlines() breaks on
// makes a WAPT reader see a line we never signed (an injected `depends:`). build-package
// refused them; verify, scanpackages and update accepted them. One check now refuses them
// at every entry point (package/control-safety.ts); these tests drive the real binary.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { checkControlSafety, controlFromObject, PYTHON_LINE_BREAKS } from '../../src/package/index.js';
import { runCli } from '../helpers/cli.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { signerOf } from '../helpers/pki.js';
import { readMember } from '../helpers/packages.js';
import { appendIndexEntry, forgeSigned } from './forge.js';

/** Every character str.splitlines() breaks at besides \n and \r (Python docs, "str.splitlines"). */
const BREAKS: [string, string][] = [
  ['\\v (line tabulation)', '\v'],
  ['\\f (form feed)', '\f'],
  ['\\x1c (file separator)', '\x1c'],
  ['\\x1d (group separator)', '\x1d'],
  ['\\x1e (record separator)', '\x1e'],
  ['U+0085 (next line)', '\u0085'],
  ['U+2028 (line separator)', '\u2028'],
  ['U+2029 (paragraph separator)', '\u2029'],
];
const inject = (ch: string) => `harmless text${ch}depends           : tis-evil`;

let env: AgentEnv;
let clean: string;
let work: string;
beforeAll(async () => {
  env = await makeAgentEnv();
  [clean] = await env.publish({ name: 'tis-linebreak-base', version: '1.0-1' });
  work = join(env.dir, 'forged');
  mkdirSync(work);
}, 120_000);
afterAll(async () => env?.stop());

describe('the check itself (one function, W-C1)', () => {
  test.each(BREAKS)('a value holding %s is refused as CONTROL_UNSAFE', (_n, ch) => {
    expect(PYTHON_LINE_BREAKS.test(ch)).toBe(true);
    expect(() => checkControlSafety(controlFromObject({ package: 'tis-a', version: '1', description: inject(ch) }))).toThrow(
      expect.objectContaining({ code: 'CONTROL_UNSAFE', detail: expect.objectContaining({ field: 'description' }) }),
    );
  });
  test('a key holding U+2028 is refused too; tab, DEL and other Unicode pass', () => {
    expect(() => checkControlSafety(controlFromObject({ package: 'tis-a', 'x\u2028depends': 'tis-evil' }))).toThrow(
      expect.objectContaining({ code: 'CONTROL_UNSAFE' }),
    );
    expect(() => checkControlSafety(controlFromObject({ package: 'tis-a', description: 'tab\there, DEL \u007f, é 😀' }))).not.toThrow();
  });
});

describe('verify refuses a signed package whose control injects a line for WAPT readers', () => {
  test.each(BREAKS)('description holding %s → exit 3, CONTROL_UNSAFE (name rules)', async (_n, ch) => {
    const forged = await forgeSigned(clean, join(work, `verify-${ch.codePointAt(0)}.wapt`), { description: inject(ch) }, signerOf(env.pki.codesigner));
    // the forgery is a well-signed package: only the line break is wrong with it
    expect((await readMember(forged, 'WAPT/control')).toString('utf8')).toContain(ch);
    const r = await runCli(['--json', 'verify', '--trusted', env.pki.trustedDir, forged]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({ ok: false, code: 'CONTROL_UNSAFE' });
  });
});

describe('scanpackages leaves such a package out, with its error, and never writes it into the index', () => {
  test('U+2028 and \\x1e packages are skipped as CONTROL_UNSAFE; the clean one is indexed; Packages holds no such byte', async () => {
    const repo = join(env.dir, 'scan-repo');
    mkdirSync(repo);
    copyFileSync(clean, join(repo, 'tis-linebreak-base_1.0-1.wapt'));
    await forgeSigned(clean, join(repo, 'tis-evil-a_1.0-1.wapt'), { package: 'tis-evil-a', description: inject('\u2028') }, signerOf(env.pki.codesigner));
    await forgeSigned(clean, join(repo, 'tis-evil-b_1.0-1.wapt'), { package: 'tis-evil-b', description: inject('\x1e') }, signerOf(env.pki.codesigner));
    for (const trusted of [[], ['--trusted', env.pki.trustedDir]]) {
      await rm(join(repo, 'Packages'), { force: true });
      const r = await runCli(['--json', 'scanpackages', repo, ...trusted]);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.indexed).toBe(1);
      expect(out.skipped).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ file: 'tis-evil-a_1.0-1.wapt', code: 'CONTROL_UNSAFE' }),
          expect.objectContaining({ file: 'tis-evil-b_1.0-1.wapt', code: 'CONTROL_UNSAFE' }),
        ]),
      );
      const text = (await readMember(join(repo, 'Packages'), 'Packages')).toString('utf8');
      expect(text).toContain('tis-linebreak-base');
      expect(text).not.toMatch(/tis-evil|[\v\f\x1c-\x1e\x85\u2028\u2029]/);
    }
  });
});

describe('update rejects such an index entry (and keeps the others)', () => {
  test('an index entry, validly signed, whose description holds U+0085 → rejected as CONTROL_UNSAFE, not offered', async () => {
    const forged = await forgeSigned(
      clean,
      join(work, 'update.wapt'),
      { package: 'tis-evil-update', description: inject('\u0085') },
      signerOf(env.pki.codesigner),
    );
    await appendIndexEntry(env.repoDir, forged, 'tis-evil-update_1.0-1.wapt');
    expect(readFileSync(join(env.repoDir, 'Packages')).length).toBeGreaterThan(0);
    const r = await env.run(['update'], { json: true });
    expect(r.code).toBe(0);
    const rejected = JSON.stringify(JSON.parse(r.stdout));
    expect(rejected).toContain('CONTROL_UNSAFE');
    expect(rejected).toContain('tis-evil-update');
    const search = await env.run(['search', 'tis-'], { json: true });
    expect(search.stdout).toContain('tis-linebreak-base');
    expect(search.stdout).not.toContain('tis-evil-update');
  });
});
