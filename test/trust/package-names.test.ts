// Issue 8 §8: a package name is a path segment (cache file, hook directory, bundle member)
// and a DB key. Names holding `/`, `\`, `..` or starting with `/` passed verify and scan.
// One rule (package/control-safety.ts, W-A3/W-B5, stricter than WAPT: X4) now refuses them
// at verify, scanpackages and update; these tests drive the real binary.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { controlFromObject, unsafePackageNameReason, validateControl } from '../../src/package/index.js';
import { runCli } from '../helpers/cli.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { signerOf } from '../helpers/pki.js';
import { readMember } from '../helpers/packages.js';
import { appendIndexEntry, forgeSigned } from './forge.js';

const BAD_NAMES: [string, string][] = [
  ['a path up and out', '../../etc/cron.d/evil'],
  ['a slash', 'tis/evil'],
  ['a backslash', 'tis\\evil'],
  ['an absolute path', '/etc/evil'],
  ['just ..', '..'],
  ['.. inside', 'tis..evil'],
];

let env: AgentEnv;
let clean: string;
let work: string;
beforeAll(async () => {
  env = await makeAgentEnv();
  [clean] = await env.publish({ name: 'tis-name-base', version: '1.0-1' });
  work = join(env.dir, 'forged');
  mkdirSync(work);
}, 120_000);
afterAll(async () => env?.stop());

describe('the rule', () => {
  test.each(BAD_NAMES)('%s (%s) is refused', (_n, name) => {
    expect(unsafePackageNameReason(name)).toBeDefined();
  });
  test('host UUIDs, FQDNs and ordinary names pass; build-time validation applies the same rule', () => {
    for (const ok of ['tis-firefox', '4C4C4544-0044-4810-8033-B4C04F4A4B32', 'pc01.example.lan', 'a.b_c~d+e'])
      expect(unsafePackageNameReason(ok)).toBeUndefined();
    expect(() => validateControl(controlFromObject({ package: 'tis..evil', version: '1' }))).toThrow(expect.objectContaining({ code: 'CONTROL_UNSAFE' }));
  });
});

describe('verify refuses a validly signed package whose name is a path', () => {
  test.each(BAD_NAMES)('%s (%s) → exit 3, CONTROL_UNSAFE', async (_n, name) => {
    const forged = await forgeSigned(clean, join(work, `v-${Buffer.from(name).toString('hex')}.wapt`), { package: name }, signerOf(env.pki.codesigner));
    expect((await readMember(forged, 'WAPT/control')).toString('utf8')).toContain(name);
    const r = await runCli(['--json', 'verify', '--trusted', env.pki.trustedDir, forged]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({ ok: false, code: 'CONTROL_UNSAFE' });
  });
});

describe('scanpackages leaves them out', () => {
  test('every path-like name is skipped as CONTROL_UNSAFE and absent from Packages; the clean package is indexed', async () => {
    const repo = join(env.dir, 'scan-repo');
    mkdirSync(repo);
    copyFileSync(clean, join(repo, 'tis-name-base_1.0-1.wapt'));
    for (const [i, [, name]] of BAD_NAMES.entries())
      await forgeSigned(clean, join(repo, `evil${i}_1.0-1.wapt`), { package: name }, signerOf(env.pki.codesigner));
    const r = await runCli(['--json', 'scanpackages', repo, '--trusted', env.pki.trustedDir]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.indexed).toBe(1);
    expect(out.skipped.filter((s: { code: string }) => s.code === 'CONTROL_UNSAFE')).toHaveLength(BAD_NAMES.length);
    const text = (await readMember(join(repo, 'Packages'), 'Packages')).toString('utf8');
    expect(text).not.toMatch(/evil/);
  });
});

describe('update rejects them', () => {
  test('index entries named ../../etc/cron.d/evil and tis\\evil (plain filenames, valid signatures) → rejected as CONTROL_UNSAFE, never offered', async () => {
    for (const [i, name] of ['../../etc/cron.d/evil', 'tis\\evil'].entries()) {
      const forged = await forgeSigned(clean, join(work, `u${i}.wapt`), { package: name }, signerOf(env.pki.codesigner));
      await appendIndexEntry(env.repoDir, forged, `plain-${i}_1.0-1.wapt`);
    }
    const r = await env.run(['update'], { json: true });
    expect(r.code).toBe(0);
    const out = JSON.stringify(JSON.parse(r.stdout));
    expect(out.match(/CONTROL_UNSAFE/g)).toHaveLength(2);
    const search = await env.run(['search', 'evil'], { json: true });
    expect(search.stdout).not.toMatch(/cron\.d|tis\\\\evil/);
    expect((await env.run(['search', 'tis-name'], { json: true })).stdout).toContain('tis-name-base');
  });
});
