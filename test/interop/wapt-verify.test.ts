// What wapt-get makes must be readable by WAPT: an independent verifier in
// Python (test/interop/wapt_verify.py: WAPT's control parsing, Python's real
// json.dumps, openssl for RSA) checks our packages, the conformance ones, and
// — so that the peer itself is shown to be honest — rejects tampered ones.
import { execFile } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { WaptError } from '../../src/errors.js';
import { resignPackage } from '../../src/package/index.js';
import { cleanupPki, getTestPki, signerOf, type TestPki } from '../helpers/pki.js';
import { buildFromSpec, editControlField, forgePackage, rewriteZip, tempDir, type PackageSpec } from '../helpers/packages.js';

const run = promisify(execFile);
const PEER = resolve('test/interop/wapt_verify.py');
const FIX = resolve('fixtures/conformance');

interface PeerResult {
  code: number;
  lines: string[];
}

async function peer(trusted: string, files: string[]): Promise<PeerResult> {
  try {
    const { stdout } = await run('python3', [PEER, '--trusted', trusted, ...files]);
    return { code: 0, lines: stdout.trim().split('\n') };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, lines: (e.stdout ?? '').trim().split('\n') };
  }
}

let pki: TestPki;
let work: string;
const cleanup: string[] = [];

beforeAll(async () => {
  pki = await getTestPki();
  work = tempDir('wapt-interop-');
});
afterAll(() => {
  for (const d of [work, ...cleanup]) rmSync(d, { recursive: true, force: true });
  cleanupPki(pki);
});

async function build(spec: PackageSpec, who = pki.codesigner): Promise<string> {
  const r = await buildFromSpec(spec, signerOf(who), { outDir: work });
  cleanup.push(r.sourceDir);
  return r.path;
}

const RICH: PackageSpec = {
  control: {
    package: 'tis-interop',
    version: '4.5.6-7',
    maturity: 'PROD',
    locale: 'fr',
    description: 'Première ligne: café, naïve, 日本語\nDeuxième ligne "quoted" \\ backslash',
    description_fr: 'Supplément à 100 %',
    installed_size: '12345',
    depends: 'tis-base(>=1.0),tis-other',
    maintainer: 'Zoë <zoe@example.org>',
  },
  files: { 'setup.mjs': 'export async function install() {}\n', 'données/été.txt': 'bonjour\n', 'data/plain.txt': 'x\n' },
};

describe('packages we build verify with the Python/openssl peer', () => {
  test('non-ASCII multi-line description, integer installed_size, setup.mjs, non-ASCII member name → OK', async () => {
    const p = await build(RICH);
    const r = await peer(pki.trustedDir, [p]);
    expect(r.lines).toEqual([`OK ${p} signer=test-codesigner`]);
    expect(r.code).toBe(0);
  });

  test('deployer-signed package without setup code, group section → OK', async () => {
    const p = await build({ control: { package: 'tis-grp', version: '3', section: 'group', depends: 'tis-interop' } }, pki.deployer);
    expect((await peer(pki.trustedDir, [p])).lines).toEqual([`OK ${p} signer=test-deployer`]);
  });

  test('description with an astral character, tab and DEL (escaping per W-E2b) → OK', async () => {
    const p = await build({ control: { package: 'tis-escape', version: '1-1', description: 'smile 😀\tand DEL \u007f end' } }, pki.deployer);
    expect((await peer(pki.trustedDir, [p])).lines).toEqual([`OK ${p} signer=test-deployer`]);
  });

  test('a WAPT-made package re-signed by us → OK with our CA', async () => {
    const r = await resignPackage(join(FIX, 'wapt-made/repo/tis-hello_1.10.0-1_PROD.wapt'), {
      signer: signerOf(pki.codesigner2),
      date: new Date(),
      reproducible: false,
      outDir: work,
      force: false,
    });
    expect((await peer(pki.trustedDir, [r.path])).lines).toEqual([`OK ${r.path} signer=test-codesigner-2`]);
  });

  test.each([
    ['U+2028 LINE SEPARATOR', '\u2028'],
    ['U+0085 NEXT LINE', '\u0085'],
    ['form feed', '\f'],
  ])(
    'description holding %s (a line break for Python splitlines(), so WAPT would read another control than we signed): our build refuses it, CONTROL_UNSAFE',
    async (_t, ch) => {
      const built = build({ control: { package: 'tis-linesep', version: '1-1', description: `before${ch}after` } }, pki.deployer);
      await expect(built).rejects.toBeInstanceOf(WaptError);
      await expect(built).rejects.toMatchObject({ code: 'CONTROL_UNSAFE' });
    },
  );
});

describe('conformance packages made by WAPT verify with the peer', () => {
  const files = [
    ...readdirSync(join(FIX, 'wapt-made/repo'))
      .filter((f) => f.endsWith('.wapt'))
      .map((f) => join(FIX, 'wapt-made/repo', f)),
    ...readdirSync(join(FIX, 'wapt-made-py2/repo'))
      .filter((f) => f.endsWith('.wapt'))
      .map((f) => join(FIX, 'wapt-made-py2/repo', f)),
  ];

  test('all seven → OK with the signer CN the READMEs state', async () => {
    expect(files).toHaveLength(7);
    const r = await peer(join(FIX, 'wapt-made/trusted'), files);
    expect(r.code).toBe(0);
    for (const f of files) {
      const cn = /hello/.test(f) ? 'conformance-codesigner' : 'conformance-deployer';
      expect(r.lines).toContain(`OK ${f} signer=${cn}`);
    }
  });

  test('with an empty trusted directory → FAIL untrusted for every one', async () => {
    const empty = tempDir('wapt-empty-');
    cleanup.push(empty);
    const r = await peer(empty, files);
    expect(r.code).toBe(1);
    expect(r.lines.filter((l) => /^FAIL .*untrusted/.test(l))).toHaveLength(7);
  });
});

describe('the peer is honest: it rejects tampered packages', () => {
  let good: string;
  beforeAll(async () => {
    good = await build(RICH);
  });

  test.each([
    [
      'payload modified',
      (p: string) => rewriteZip(good, p, { replace: { 'data/plain.txt': 'evil\n' } }),
      /member does not match the manifest: data\/plain.txt/,
    ],
    ['file added', (p: string) => rewriteZip(good, p, { add: { 'evil.txt': 'x' } }), /not in the manifest: evil.txt/],
    [
      'control edited, manifest re-hashed',
      (p: string) => forgePackage(good, p, { replace: { 'WAPT/control': editControlField('version', '9.9-9') } }),
      /manifest signature does not verify/,
    ],
    [
      'control edited, manifest re-signed by our own key',
      (p: string) => forgePackage(good, p, { replace: { 'WAPT/control': editControlField('depends', 'tis-evil') } }, { signer: signerOf(pki.codesigner) }),
      /control signature does not verify/,
    ],
    ['re-signed by an untrusted CA', (p: string) => forgePackage(good, p, {}, { signer: signerOf(pki.otherSigner), resignControl: true }), /untrusted signer/],
    [
      'setup code under a deployer certificate',
      (p: string) => forgePackage(good, p, {}, { signer: signerOf(pki.deployer), resignControl: true }),
      /without code signing/,
    ],
  ] as const)('%s → FAIL', async (label, make, reason) => {
    const p = join(work, `tampered-${label.replace(/\W+/g, '-')}.wapt`);
    await make(p);
    const r = await peer(pki.trustedDir, [p]);
    expect(r.code).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(reason);
  });
});
