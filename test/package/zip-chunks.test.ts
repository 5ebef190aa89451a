// The reused-buffer read path (PackageZip.forEachChunk / hashAllMembers, readVerifiedRange):
// the same digests and the same errors as the stream path, with chunks straddling
// members and buffer boundaries (W-D3: every member hashed, compared with the manifest).
import { createHash, randomBytes } from 'node:crypto';
import { open, mkdtemp, readFile, readdir, rm, truncate } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MANIFEST_MEMBER, parseManifest } from '../../src/package/manifest.js';
import { readVerifiedRange } from '../../src/package/zip-member-stream.js';
import { PackageZip } from '../../src/package/zip-reader.js';
import { crc32, writeEvilZip, type EvilEntry } from '../helpers/evil-zip.js';

const MiB = 1024 * 1024;
const CONFORMANCE = path.resolve('fixtures/conformance');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'zip-chunks-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Digests through openMemberStream: the stream path, an independent reference. */
async function streamDigests(zip: PackageZip): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const m of zip.members) {
    if (m.isDirectory) continue;
    const h = createHash('sha256');
    for await (const c of await zip.openMemberStream(m.name)) h.update(c as Buffer);
    out.set(m.name, h.digest('hex'));
  }
  return out;
}

async function wapts(): Promise<string[]> {
  const out: string[] = [];
  for (const dir of ['wapt-made/repo', 'wapt-made-py2/repo']) {
    for (const n of await readdir(path.join(CONFORMANCE, dir))) if (n.endsWith('.wapt')) out.push(path.join(CONFORMANCE, dir, n));
  }
  return out;
}

// Sizes around the 1 MiB buffer: chunks end inside a member, exactly at its end, and a
// member smaller than one chunk follows a large one.
const MIXED: EvilEntry[] = [
  { name: 'a/just-under.bin', data: randomBytes(MiB - 1) },
  { name: 'a/exact.bin', data: randomBytes(MiB) },
  { name: 'a/just-over.bin', data: randomBytes(MiB + 1) },
  { name: 'empty.txt', data: Buffer.alloc(0) },
  { name: 'dir/', data: Buffer.alloc(0) },
  { name: 'tiny.txt', data: Buffer.from('x') },
  { name: 'deflated.log', data: Buffer.from(randomBytes(1.5 * MiB).toString('base64')), method: 'deflate' }, // ~2 MiB, ratio ~1.3
  { name: 'odd.bin', data: randomBytes(3 * MiB + 7) },
];

async function mixedZip(entries = MIXED): Promise<string> {
  const p = path.join(tmp, 'mixed.wapt');
  await writeEvilZip(p, entries);
  return p;
}

describe('hashAllMembers (reused buffers)', () => {
  it("W-D3: equals WAPT's own manifest and the stream path on every conformance package", async () => {
    const files = await wapts();
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const file of files) {
      const zip = await PackageZip.open(file);
      try {
        const got = await zip.hashAllMembers();
        const manifest = parseManifest(await zip.readMember(MANIFEST_MEMBER, MiB), file);
        for (const [name, digest] of manifest) expect([file, name, got.get(name)]).toEqual([file, name, digest]);
        expect(got).toEqual(await streamDigests(zip));
      } finally {
        zip.close();
      }
    }
  });

  it('gives each member its own digest when 1 MiB chunks straddle member and buffer boundaries', async () => {
    const zip = await PackageZip.open(await mixedZip());
    try {
      const got = await zip.hashAllMembers();
      const want = new Map(MIXED.filter((e) => !e.name.endsWith('/')).map((e) => [e.name, sha256(e.data)]));
      expect(got).toEqual(want);
      expect(await streamDigests(zip)).toEqual(want);
    } finally {
      zip.close();
    }
  });

  it('a member being read when close() is called still completes (fd held); later reads → ZIP_INVALID closed', async () => {
    const zip = await PackageZip.open(await mixedZip());
    const h = createHash('sha256');
    const running = zip.forEachChunk('odd.bin', (c) => void h.update(c), { crc: true });
    zip.close();
    await running;
    expect(h.digest('hex')).toBe(sha256(MIXED[7]!.data));
    await expect(zip.hashAllMembers()).rejects.toMatchObject({ code: 'ZIP_INVALID', message: /closed/ });
  });

  it('a file truncated under an open package → ZIP_INVALID (member ends early), never a short digest', async () => {
    const p = await mixedZip([{ name: 'big.bin', data: randomBytes(3 * MiB) }]);
    const zip = await PackageZip.open(p);
    try {
      await truncate(p, 2 * MiB);
      await expect(zip.hashAllMembers()).rejects.toMatchObject({ code: 'ZIP_INVALID', message: /ends after/ });
    } finally {
      zip.close();
    }
  });

  it('a flipped byte in stored data changes the digest (the CRC is skipped here by design)', async () => {
    const data = randomBytes(2 * MiB);
    const p = await mixedZip([{ name: 'big.bin', data }]);
    const at = (await readFile(p)).indexOf(data.subarray(MiB, MiB + 64)) + 5;
    expect(at).toBeGreaterThan(MiB);
    const fh = await open(p, 'r+');
    await fh.write(Buffer.from([data[MiB + 5]! ^ 0xff]), 0, 1, at);
    await fh.close();
    const zip = await PackageZip.open(p);
    try {
      const got = (await zip.hashAllMembers()).get('big.bin');
      expect(got).not.toBe(sha256(data));
    } finally {
      zip.close();
    }
  });
});

describe('forEachChunk', () => {
  it('with crc: a stored member failing its CRC-32 → ZIP_INVALID after its bytes were delivered', async () => {
    const data = randomBytes(MiB + 3);
    const zip = await PackageZip.open(await mixedZip([{ name: 'bad.bin', data, crc: (crc32(data) ^ 1) >>> 0 }]));
    try {
      let seen = 0;
      await expect(zip.forEachChunk('bad.bin', (c) => void (seen += c.length), { crc: true })).rejects.toMatchObject({
        code: 'ZIP_INVALID',
        message: /CRC-32/,
      });
      expect(seen).toBe(data.length);
      await expect(zip.forEachChunk('bad.bin', () => undefined, { crc: false })).resolves.toBeUndefined();
    } finally {
      zip.close();
    }
  });

  it('an error thrown by the consumer propagates unchanged and stops reading', async () => {
    const zip = await PackageZip.open(await mixedZip());
    try {
      let calls = 0;
      const boom = new Error('consumer failed');
      await expect(
        zip.forEachChunk(
          'odd.bin',
          () => {
            calls++;
            throw boom;
          },
          { crc: true },
        ),
      ).rejects.toBe(boom);
      expect(calls).toBe(1);
    } finally {
      zip.close();
    }
  });

  it('a deflated member goes through the inflating stream with the same checks', async () => {
    const zip = await PackageZip.open(await mixedZip());
    try {
      const h = createHash('sha256');
      await zip.forEachChunk('deflated.log', (c) => void h.update(c), { crc: true });
      expect(h.digest('hex')).toBe(sha256(MIXED[6]!.data));
    } finally {
      zip.close();
    }
  });
});

describe('readVerifiedRange', () => {
  it('alternates between the two given buffers and never hands out more than one buffer of bytes', async () => {
    const data = randomBytes(5 * 1024 + 11);
    const p = path.join(tmp, 'raw.bin');
    const fh = await open(p, 'w+');
    await fh.write(data, 0, data.length, 0);
    const bufs: [Buffer, Buffer] = [Buffer.alloc(1024), Buffer.alloc(1024)];
    const owners: number[] = [];
    const parts: Buffer[] = [];
    await readVerifiedRange(fh.fd, 0, { file: p, member: 'raw', size: data.length, crc32: crc32(data) }, bufs, async (c) => {
      owners.push(c.buffer === bufs[0].buffer && c.byteOffset === bufs[0].byteOffset ? 0 : 1);
      parts.push(Buffer.from(c)); // a copy: the view is reused after this resolves
      await new Promise((r) => setImmediate(r));
    });
    await fh.close();
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(parts.map((x) => x.length)).toEqual([1024, 1024, 1024, 1024, 1024, 11]);
    expect(owners).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('a read error (bad fd) → ZIP_INVALID naming the member', async () => {
    await expect(
      readVerifiedRange(987654, 0, { file: 'f.wapt', member: 'm', size: 10 }, [Buffer.alloc(4), Buffer.alloc(4)], () => undefined),
    ).rejects.toMatchObject({ code: 'ZIP_INVALID', message: /member m: .*EBADF/ });
  });
});
