// Red-team findings after issue 8: (1) control values holding terminal escapes reached the
// terminal raw through search/show (window title, clear screen); human output now shows
// control characters as \xNN while --json keeps the exact value. (2) a root scanpackages
// followed a *.wapt symlink planted by an uploader and published a private package's
// control; symlinks are now left out of the index. Real binary, real nginx.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildPackage } from '../../src/package/index.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { signerOf } from '../helpers/pki.js';
import { runCli } from '../helpers/cli.js';

let env: AgentEnv;
const EVIL = '\x1b]0;pwned\x07\x1b[2J\x1b[31mRED\x00nul\x08\x08';

beforeAll(async () => {
  env = await makeAgentEnv();
  const src = path.join(env.dir, 'src-esc');
  await mkdir(path.join(src, 'WAPT'), { recursive: true });
  await writeFile(
    path.join(src, 'WAPT', 'control'),
    `package           : tis-esc\nversion           : 1.0-1\narchitecture      : all\nsection           : base\npriority          : optional\ndescription       : ${EVIL}\n`,
  );
  await buildPackage(src, { signer: signerOf(env.pki.deployer), outDir: env.repoDir, date: new Date(), reproducible: false });
  const { scanPackages } = await import('../../src/repo/scan/scan.js');
  await scanPackages(env.repoDir);
  expect((await env.run(['update'])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

describe('terminal escapes in package metadata', () => {
  test.each([
    ['search', 'esc'],
    ['show', 'tis-esc'],
  ])('%s prints ESC, BEL, NUL and BS as \\xNN, never raw', async (verb, arg) => {
    const r = await env.run([verb, arg]);
    expect(r.code).toBe(0);
    // only our palette's colour sequences may pass (red here is harmless); no title, clear, NUL, BEL, BS
    expect(r.stdout).not.toMatch(/\x1b(?!\[(?:1|2|22|31|32|33|39)m)|[\x00\x07\x08]/);
    expect(r.stdout).toContain('\\x1b]0;pwned\\x07\\x1b[2J');
  });

  test('--json keeps the exact value (machines get the data, terminals get it inert)', async () => {
    const r = await env.run(['show', 'tis-esc'], { json: true });
    expect(JSON.stringify(JSON.parse(r.stdout))).toContain(JSON.stringify(EVIL).slice(1, -1));
  });
});

describe('scanpackages and symlinks planted in the repository', () => {
  test('a *.wapt symlink to a private package outside the repository is not indexed (ZIP_SYMLINK), its control is not published', async () => {
    const priv = path.join(env.dir, 'private');
    await mkdir(priv, { recursive: true, mode: 0o700 });
    const src = path.join(env.dir, 'src-secret');
    await mkdir(path.join(src, 'WAPT'), { recursive: true });
    await writeFile(
      path.join(src, 'WAPT', 'control'),
      'package           : private-secret\nversion           : 1.0-1\narchitecture      : all\nsection           : base\npriority          : optional\ndescription       : password=hunter2\n',
    );
    const built = await buildPackage(src, { signer: signerOf(env.pki.codesigner), outDir: priv, date: new Date(), reproducible: false });
    await chmod(built.path, 0o600);
    // an upload directory the uploader may write (outside env.dir, which is 0700)
    const repo = await mkdtemp(path.join(tmpdir(), 'wapt-upload-repo-'));
    await chmod(repo, 0o777);
    // the uploader (nobody) plants the link; root scans
    execFileSync('runuser', ['-u', 'nobody', '--', 'ln', '-s', built.path, path.join(repo, 'zz_1.0-1_all.wapt')]);
    const r = await runCli(['--json', 'scanpackages', repo], { env: { WAPT_GET_CONFIG: path.join(env.dir, 'none.ini') } });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.skipped).toEqual([expect.objectContaining({ file: 'zz_1.0-1_all.wapt', code: 'ZIP_SYMLINK' })]);
    const { readPackagesZip } = await import('../../src/repo/index-file/packages-zip.js');
    const idx = await readPackagesZip(path.join(repo, 'Packages'));
    expect(idx.packagesBytes.toString('utf8')).not.toContain('hunter2');
    expect(await readFile(built.path)).toBeTruthy();
    await rm(repo, { recursive: true, force: true });
  });
});
