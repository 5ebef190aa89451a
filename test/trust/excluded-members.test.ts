// Issue 8 §8 / W-A2: `WAPT/signature` and `WAPT/manifest.sha1` are left out of the manifest
// (legacy WAPT members) and no signature covers them, so anyone can add them to a validly
// signed package without breaking it. They were extracted unverified, next to the setup
// code. Decision: verify still accepts them (W-A2 says old packages may carry them and they
// are ignored), and extraction DROPS them: no unverified byte reaches the disk or a hook.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractPackage, PackageZip, UNVERIFIED_MEMBERS } from '../../src/package/index.js';
import { runCli } from '../helpers/cli.js';
import { buildTestPackage, makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { readZipEntries, rewriteZip } from '../helpers/packages.js';

const PLANTED = {
  'WAPT/signature': 'export async function install() { /* unverified code an uploader slipped in */ }\n',
  'WAPT/manifest.sha1': '[["setup.mjs","0000000000000000000000000000000000000000"]]',
};

let env: AgentEnv;
let planted: string;
let probe: string;
beforeAll(async () => {
  env = await makeAgentEnv();
  probe = join(env.dir, 'probe.json');
  const setup = [
    "import { existsSync, readdirSync, writeFileSync } from 'node:fs';",
    'export async function install() {',
    `  writeFileSync(${JSON.stringify(probe)}, JSON.stringify({ wapt: readdirSync('WAPT').sort(), sig: existsSync('WAPT/signature'), sha1: existsSync('WAPT/manifest.sha1') }));`,
    '}',
  ].join('\n');
  const out = join(env.dir, 'built');
  mkdirSync(out);
  const clean = await buildTestPackage(env.pki, env.dir, out, { name: 'tis-planted', version: '1.0-1', setup });
  // No key needed: the manifest and both signatures are untouched.
  planted = await rewriteZip(clean, join(env.dir, 'tis-planted_1.0-1.wapt'), { add: PLANTED });
}, 120_000);
afterAll(async () => env?.stop());

test('the planted package still verifies (W-A2: legacy members are ignored, not refused)', async () => {
  expect((await readZipEntries(planted)).map((e) => e.name)).toEqual(expect.arrayContaining(Object.keys(PLANTED)));
  const r = await runCli(['--json', 'verify', '--trusted', env.pki.trustedDir, planted]);
  expect(r.code).toBe(0);
});

test('extractPackage never writes WAPT/signature or WAPT/manifest.sha1 (the members nothing verifies)', async () => {
  expect([...UNVERIFIED_MEMBERS].sort()).toEqual(['WAPT/manifest.sha1', 'WAPT/signature']);
  const dest = join(env.dir, 'extracted');
  const zip = await PackageZip.open(planted);
  try {
    await extractPackage(zip, dest);
  } finally {
    zip.close();
  }
  expect(existsSync(join(dest, 'WAPT', 'control'))).toBe(true);
  expect(existsSync(join(dest, 'WAPT', 'manifest.sha256'))).toBe(true);
  expect(existsSync(join(dest, 'setup.mjs'))).toBe(true);
  expect(existsSync(join(dest, 'WAPT', 'signature'))).toBe(false);
  expect(existsSync(join(dest, 'WAPT', 'manifest.sha1'))).toBe(false);
});

test('install ./planted.wapt (real binary): the hook runs in a package directory without the planted members', async () => {
  const r = await env.run(['install', planted], { json: true });
  expect(r.code).toBe(0);
  const seen = JSON.parse(readFileSync(probe, 'utf8'));
  expect(seen).toMatchObject({ sig: false, sha1: false });
  expect(seen.wapt).toEqual(expect.arrayContaining(['control', 'certificate.crt', 'manifest.sha256', 'signature.sha256']));
});
