// Streaming digests agree with openssl (a real peer) on a multi-chunk file.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { hashFile, sha256File } from '../../src/package/hash-stream.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hash-stream-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const openssl = (algo: string, file: string) => execFileSync('openssl', ['dgst', `-${algo}`, '-r', file], { encoding: 'utf8' }).split(' ')[0];

it('sha256File and hashFile(sha256, md5) match openssl dgst on a 3.5 MiB file (several 1 MiB reads)', async () => {
  const file = path.join(tmp, 'data.bin');
  await writeFile(file, randomBytes(3.5 * 1024 * 1024));
  expect(await sha256File(file)).toBe(openssl('sha256', file));
  expect(await hashFile(file, ['sha256', 'md5'])).toEqual({ sha256: openssl('sha256', file), md5: openssl('md5', file) });
});

it('hashes an empty file', async () => {
  const file = path.join(tmp, 'empty');
  await writeFile(file, '');
  expect(await sha256File(file)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

it('a missing file is IO_ERROR', async () => {
  await expect(sha256File(path.join(tmp, 'nope'))).rejects.toMatchObject({ code: 'IO_ERROR' });
});

it('sizes around the 1 MiB read (1, 1 MiB - 1, 1 MiB, 1 MiB + 1, 2 MiB + 3) match openssl: reused buffers never leak stale bytes', async () => {
  const MiB = 1024 * 1024;
  for (const size of [1, MiB - 1, MiB, MiB + 1, 2 * MiB + 3]) {
    const file = path.join(tmp, `sized-${size}`);
    await writeFile(file, randomBytes(size));
    expect([size, await hashFile(file, ['sha256', 'md5'])]).toEqual([size, { sha256: openssl('sha256', file), md5: openssl('md5', file) }]);
  }
});

it('a directory is IO_ERROR (EISDIR), not an empty digest', async () => {
  await expect(sha256File(tmp)).rejects.toMatchObject({ code: 'IO_ERROR' });
});
