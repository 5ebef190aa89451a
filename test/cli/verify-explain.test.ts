// `verify --explain`: every check verifyPackage makes, in order, with its verdict and the
// rule it enforces; the first failure names its code, the checks after it are `not run`.
// `--json --explain` gives the same list as an array per result. Real binary, real packages.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VERIFY_CHECKS } from '../../src/package/index.js';
import { runCli } from '../helpers/cli.js';
import { cleanupPki, getTestPki, signerOf, type TestPki } from '../helpers/pki.js';
import { buildFromSpec, forgePackage, rewriteZip, tempDir } from '../helpers/packages.js';
import { forgeSigned } from '../trust/forge.js';
import { makeCrl } from '../crypto/helpers.js';

const NAMES = VERIFY_CHECKS.map((c) => c.check);
type Check = { check: string; rule: string; verdict: string; detail: string; code?: string };

let pki: TestPki;
let work: string;
let good: string;
beforeAll(async () => {
  pki = await getTestPki();
  work = tempDir('wapt-explain-');
  good = (
    await buildFromSpec({ control: { package: 'tis-explain', version: '1.0-1' }, files: { 'data/a.txt': 'payload' } }, signerOf(pki.deployer), { outDir: work })
  ).path;
}, 120_000);
afterAll(() => cleanupPki(pki));

async function explain(file: string, trusted = pki.trustedDir): Promise<{ code: number | null; result: { ok: boolean; code?: string; checks?: Check[] } }> {
  const r = await runCli(['--json', 'verify', '--explain', '--trusted', trusted, file]);
  return { code: r.code, result: JSON.parse(r.stdout).results[0] };
}

/** Every check before `failed` passed, `failed` failed with `code`, every one after it was not run. */
function expectFailureAt(checks: Check[], failed: string, code: string): void {
  expect(checks.map((c) => c.check)).toEqual(NAMES);
  const at = NAMES.indexOf(failed as (typeof NAMES)[number]);
  checks.forEach((c, i) => expect([c.check, c.verdict]).toEqual([c.check, i < at ? 'pass' : i === at ? 'fail' : 'not run']));
  expect(checks[at]).toMatchObject({ code });
}

test('a good package: all ten checks pass, in order, each naming its rule; human output prints one line per check', async () => {
  const { code, result } = await explain(good);
  expect(code).toBe(0);
  expect(result.checks!.map((c) => [c.check, c.verdict])).toEqual(NAMES.map((n) => [n, 'pass']));
  expect(result.checks!.every((c) => /W-|X\d/.test(c.rule) && c.detail.length > 0)).toBe(true);
  expect(result.checks!.find((c) => c.check === 'chain')!.detail).toMatch(/^test-deployer → \S/);
  const human = await runCli(['verify', '--explain', '--trusted', pki.trustedDir, good]);
  const lines = human.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^OK {3}/);
  expect(lines.slice(1).map((l) => l.trim().split(/\s+/)[0])).toEqual(NAMES.map(() => 'pass'));
  for (const [i, n] of NAMES.entries()) expect(lines[i + 1]).toContain(n);
});

test('without --explain there is no checks list', async () => {
  const r = await runCli(['--json', 'verify', '--trusted', pki.trustedDir, good]);
  expect(JSON.parse(r.stdout).results[0].checks).toBeUndefined();
});

test.each([
  ['not a zip at all', 'zip structure', 'ZIP_INVALID'],
  ['signature.sha256 replaced', 'manifest signature', 'SIGNATURE_INVALID'],
  ['control edited, manifest re-signed but not the control', 'control signature', 'CONTROL_SIGNATURE_INVALID'],
  ['control signed by another key than the manifest', 'signer fingerprint', 'SIGNER_MISMATCH'],
  ['nothing trusted', 'chain', 'SIGNER_UNTRUSTED'],
  ['signer revoked by a CRL', 'revocation', 'CERT_REVOKED'],
  ['signer expired', 'dates', 'CERT_EXPIRED'],
  ['deployer-signed setup.mjs', 'code-signing rule', 'CODESIGNING_REQUIRED'],
  ['U+2028 in the description', 'name rules', 'CONTROL_UNSAFE'],
  ['payload changed after signing', 'manifest digests', 'MANIFEST_MISMATCH'],
])('%s → %s fails (%s), the earlier checks pass, the later ones are not run', async (name, failed, code) => {
  const dest = join(work, `${name.replace(/\W+/g, '-')}.wapt`);
  let trusted = pki.trustedDir;
  switch (failed) {
    case 'zip structure':
      writeFileSync(dest, 'PK\x03\x04 this is not a zip');
      break;
    case 'manifest signature':
      await rewriteZip(good, dest, { replace: { 'WAPT/signature.sha256': Buffer.alloc(256, 7).toString('base64') } });
      break;
    case 'control signature':
      await forgePackage(
        good,
        dest,
        { replace: { 'WAPT/control': (old) => old.toString('utf8').replace('tis-explain', 'tis-explaim') } },
        { signer: signerOf(pki.deployer) },
      );
      break;
    case 'signer fingerprint': {
      const mid = await forgePackage(good, join(work, 'mid.wapt'), {}, { signer: signerOf(pki.codesigner2), resignControl: true });
      await forgePackage(mid, dest, {}, { signer: signerOf(pki.codesigner, [pki.codesigner2.cert]) });
      break;
    }
    case 'chain':
      copyFileSync(good, dest);
      trusted = pki.emptyTrustedDir;
      break;
    case 'revocation': {
      copyFileSync(good, dest);
      trusted = join(work, 'trusted-crl');
      mkdirSync(trusted, { recursive: true });
      copyFileSync(pki.ca.certPath, join(trusted, 'ca.crt'));
      writeFileSync(join(trusted, 'ca.crl'), await makeCrl({ cert: pki.ca.cert, privateKey: pki.ca.privateKey }, [pki.deployer.cert]));
      break;
    }
    case 'dates':
      await buildFromSpec({ control: { package: 'tis-explain-old', version: '1' } }, signerOf(pki.expired), { outDir: join(work, 'expired') }).then((r) =>
        copyFileSync(r.path, dest),
      );
      break;
    case 'code-signing rule':
      await forgePackage(good, dest, { add: { 'setup.mjs': 'export async function install() {}\n' } }, { signer: signerOf(pki.deployer) });
      break;
    case 'name rules':
      await forgeSigned(good, dest, { description: 'a\u2028depends: tis-evil' }, signerOf(pki.deployer));
      break;
    case 'manifest digests':
      await rewriteZip(good, dest, { replace: { 'data/a.txt': 'changed' } });
      break;
  }
  const { code: exit, result } = await explain(dest, trusted);
  expect(exit).not.toBe(0);
  expect(result).toMatchObject({ ok: false, code });
  expectFailureAt(result.checks!, failed, code);
});
