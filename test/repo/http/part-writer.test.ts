// PartWriter: the coalescing writer behind fetchToFile's `.part` (1 MiB writes
// instead of one per TLS chunk). Every accepted byte reaches the file, in order;
// write failures surface with their syscall so the client calls them local.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient } from '../../../src/repo/http/index.js';
import { partPath, PartWriter, WRITE_BLOCK } from '../../../src/repo/http/part-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'part-writer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Feeds `data` in pieces of the given sizes (cycled), awaiting only when write asks for it. */
async function feed(w: PartWriter, data: Buffer, sizes: number[]): Promise<void> {
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - off);
    const wait = w.write(data.subarray(off, off + n));
    if (wait) await wait;
    off += n;
  }
}

test('TLS-sized, odd and larger-than-a-block chunks land byte for byte, in order, including the unflushed tail', async () => {
  const dest = join(dir, 'f.wapt');
  const data = randomBytes(3 * WRITE_BLOCK + 12345);
  const w = await PartWriter.open(dest, false);
  await feed(w, data, [16384, 1, 7, 2 * WRITE_BLOCK + 3, 16384]);
  await w.close();
  expect((await readFile(partPath(dest))).equals(data)).toBe(true);
});

test('the caller may reuse its chunk as soon as write returns: bytes were copied', async () => {
  const dest = join(dir, 'f.wapt');
  const scratch = Buffer.alloc(1000);
  const w = await PartWriter.open(dest, false);
  for (let i = 0; i < 5; i++) {
    scratch.fill(65 + i);
    const wait = w.write(scratch);
    if (wait) await wait;
  }
  await w.close();
  expect(await readFile(partPath(dest), 'latin1')).toBe(['A', 'B', 'C', 'D', 'E'].map((c) => c.repeat(1000)).join(''));
});

test('write-behind: a chunk received on a slow link reaches the file without waiting for 1 MiB or close (kill -9 loses nothing received)', async () => {
  const dest = join(dir, 'f.wapt');
  const w = await PartWriter.open(dest, false);
  expect(w.write(Buffer.from('first bytes'))).toBeUndefined();
  const end = Date.now() + 5000;
  while ((await stat(partPath(dest))).size < 11 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  expect(await readFile(partPath(dest), 'utf8')).toBe('first bytes');
  await w.close();
});

test('append mode continues an existing .part; the default mode truncates it', async () => {
  const dest = join(dir, 'f.wapt');
  await writeFile(partPath(dest), 'head-');
  let w = await PartWriter.open(dest, true);
  await feed(w, Buffer.from('tail'), [2]);
  await w.close();
  expect(await readFile(partPath(dest), 'utf8')).toBe('head-tail');
  w = await PartWriter.open(dest, false);
  await feed(w, Buffer.from('new'), [3]);
  await w.close();
  expect(await readFile(partPath(dest), 'utf8')).toBe('new');
});

test('a disk-full write (ENOSPC, .part → /dev/full) is thrown with syscall "write", from write or close', async () => {
  const dest = join(dir, 'f.wapt');
  await symlink('/dev/full', partPath(dest));
  const w = await PartWriter.open(dest, false);
  let err: NodeJS.ErrnoException | undefined;
  try {
    await feed(w, randomBytes(3 * WRITE_BLOCK), [16384]);
  } catch (e) {
    err = e as NodeJS.ErrnoException;
  }
  await w.close().catch((e: NodeJS.ErrnoException) => (err ??= e));
  expect(err).toMatchObject({ code: 'ENOSPC', syscall: 'write' });
});

test('a small write failing in the background → close throws ENOSPC (nothing is silently dropped)', async () => {
  const dest = join(dir, 'f.wapt');
  await symlink('/dev/full', partPath(dest));
  const w = await PartWriter.open(dest, false);
  expect(w.write(Buffer.from('short'))).toBeUndefined();
  await expect(w.close()).rejects.toMatchObject({ code: 'ENOSPC', syscall: 'write' });
});

describe('fetchToFile through PartWriter (plain HTTP on loopback)', () => {
  const body = randomBytes(3 * WRITE_BLOCK + 999);
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    res.writeHead(200, { 'content-length': String(body.length) });
    // many small writes, as a TLS socket would deliver them
    let off = 0;
    const pump = (): void => {
      while (off < body.length) {
        const ok = res.write(body.subarray(off, (off += 16384)));
        if (!ok) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  let url: string;
  const client = new HttpClient({
    verifyCert: { kind: 'off' },
    connectTimeoutMs: 2000,
    readTimeoutMs: 2000,
    retries: 2,
    retryBaseMs: 5,
    maxRedirects: 0,
    allowInsecureHttp: true,
    userAgent: 'wapt-get-test',
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/f`;
  });
  afterAll(async () => {
    await client.close();
    await new Promise((r) => server.close(r));
  });

  test('the file and its sha256 are exactly the body', async () => {
    const dest = join(dir, 'f.wapt');
    const r = await client.fetchToFile(url, dest, { expectedSize: body.length });
    expect(r.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect((await readFile(dest)).equals(body)).toBe(true);
  });

  test('disk full while writing the .part → ERR_OUT_OF_SPACE, a local error: not retried', async () => {
    const dest = join(dir, 'f.wapt');
    await symlink('/dev/full', partPath(dest)); // resume: the .part is opened, not removed first
    hits = 0;
    await expect(client.fetchToFile(url, dest, { resume: true })).rejects.toMatchObject({ code: 'ERR_OUT_OF_SPACE' });
    expect(hits).toBe(1);
  });
});
