// copyTree's copy is the kernel's (copyFile with FICLONE: a reflink where the
// filesystem can, else copy_file_range): contents and modes must come out exact.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { HookContext } from '../../src/agent/hooks/api.js';
import { createHelpers } from '../../src/agent/hooks/helpers.js';

let tmp: string;
let pkg: string;
let root: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hooks-copytree-'));
  pkg = path.join(tmp, 'pkg');
  root = path.join(tmp, 'root');
  await mkdir(path.join(pkg, 'files'), { recursive: true });
  await mkdir(root);
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const ctx = (): HookContext => ({
  package: 'tis-c',
  version: '1-1',
  control: {},
  params: {},
  targetRoot: root,
  packageDir: pkg,
  persistent: {},
  os: 'linux',
  arch: 'x64',
});

test('a multi-MiB file is copied byte for byte with its mode; a read-only one is replaced on a second copy; no temp files stay', async () => {
  const big = randomBytes(5 * 1024 * 1024 + 3);
  await writeFile(path.join(pkg, 'files', 'big.bin'), big);
  await chmod(path.join(pkg, 'files', 'big.bin'), 0o640);
  await writeFile(path.join(pkg, 'files', 'ro.txt'), 'v1');
  await chmod(path.join(pkg, 'files', 'ro.txt'), 0o444);
  const h = createHelpers(ctx());
  expect(await h.copyTree('files', 'opt/c')).toEqual(['opt/c/big.bin', 'opt/c/ro.txt']);
  expect((await readFile(path.join(root, 'opt/c/big.bin'))).equals(big)).toBe(true);
  expect((await stat(path.join(root, 'opt/c/big.bin'))).mode & 0o777).toBe(0o640);
  expect((await stat(path.join(root, 'opt/c/ro.txt'))).mode & 0o777).toBe(0o444);
  await chmod(path.join(pkg, 'files', 'ro.txt'), 0o644);
  await writeFile(path.join(pkg, 'files', 'ro.txt'), 'v2');
  await h.copyTree('files', 'opt/c');
  expect(await readFile(path.join(root, 'opt/c/ro.txt'), 'utf8')).toBe('v2');
  expect((await readdir(path.join(root, 'opt/c'))).sort()).toEqual(['big.bin', 'ro.txt']);
});
