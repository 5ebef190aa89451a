// The reader refuses hostile zips at open (central directory checks) or while
// streaming (actual bytes vs declared size, CRC). Each bad input is named.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { WaptError } from '../../src/errors.js';
import { PackageZip, readZipMemberOnce } from '../../src/package/zip-reader.js';
import { flipByte, truncateFile, writeEvilZip, writeRandomBytes, type EvilEntry } from '../helpers/evil-zip.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'zip-reader-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const text = (s: string) => Buffer.from(s, 'utf8');

async function evil(entries: EvilEntry[]): Promise<string> {
  const p = path.join(tmp, 'evil.wapt');
  await writeEvilZip(p, entries);
  return p;
}

async function openError(p: string, limits?: Parameters<typeof PackageZip.open>[1]): Promise<WaptError> {
  try {
    const zip = await PackageZip.open(p, limits);
    zip.close();
  } catch (err) {
    expect(err).toBeInstanceOf(WaptError);
    return err as WaptError;
  }
  throw new Error('open succeeded');
}

async function streamError(zip: PackageZip, name: string): Promise<WaptError> {
  try {
    for await (const _ of await zip.openMemberStream(name)) void _;
  } catch (err) {
    expect(err).toBeInstanceOf(WaptError);
    return err as WaptError;
  }
  throw new Error('stream succeeded');
}

describe('PackageZip.open on a good zip', () => {
  it('lists members, reads them, hashes them (stored and deflated, UTF-8 name)', async () => {
    const big = Buffer.from(randomBytes(2 * 1024 * 1024).toString('base64')); // compressible, ratio < 2
    const p = await evil([
      { name: 'WAPT/control', data: text('package : x\n') },
      { name: 'données/été.txt', data: text('bonjour'), method: 'deflate' },
      { name: 'dir/', data: Buffer.alloc(0) },
      { name: 'big.bin', data: big, method: 'deflate' },
    ]);
    const zip = await PackageZip.open(p);
    try {
      expect(zip.members.map((m) => [m.name, m.isDirectory])).toEqual([
        ['WAPT/control', false],
        ['données/été.txt', false],
        ['dir/', true],
        ['big.bin', false],
      ]);
      expect(zip.has('données/été.txt')).toBe(true);
      expect(zip.has('missing')).toBe(false);
      expect((await zip.readMember('données/été.txt', 100)).toString()).toBe('bonjour');
      const hashes = await zip.hashAllMembers();
      expect([...hashes.keys()]).toEqual(['WAPT/control', 'données/été.txt', 'big.bin']);
      expect(hashes.get('big.bin')).toBe(createHash('sha256').update(big).digest('hex'));
      expect(zip.members[3]!.compressedSize).toBeLessThan(big.length);
    } finally {
      zip.close();
    }
    expect((await readZipMemberOnce(p, 'WAPT/control', 1000)).toString()).toBe('package : x\n');
  });

  it('readMember refuses a member larger than maxBytes', async () => {
    const p = await evil([{ name: 'WAPT/control', data: Buffer.alloc(2000) }]);
    await expect(readZipMemberOnce(p, 'WAPT/control', 1999)).rejects.toMatchObject({ code: 'ZIP_BOMB' });
  });

  it('a missing member is ZIP_INVALID naming the member', async () => {
    const p = await evil([{ name: 'a', data: text('a') }]);
    await expect(readZipMemberOnce(p, 'WAPT/control', 10)).rejects.toMatchObject({
      code: 'ZIP_INVALID',
      detail: { member: 'WAPT/control', missing: true },
    });
  });
});

describe('PackageZip.open refuses hostile names and entries', () => {
  it.each([
    ['traversal ../x', '../x'],
    ['absolute /etc/x', '/etc/x'],
    ['drive letter C:/x', 'C:/x'],
    ['backslash a\\b (yauzl would turn it into a/b)', 'a\\b'],
  ])('%s → ZIP_UNSAFE_PATH', async (_t, name) => {
    const err = await openError(
      await evil([
        { name: 'ok', data: text('1') },
        { name, data: text('x') },
      ]),
    );
    expect(err.code).toBe('ZIP_UNSAFE_PATH');
    expect(err.detail.member).toBe(name);
  });

  it('symlink entry (mode 0o120777) → ZIP_SYMLINK', async () => {
    const err = await openError(await evil([{ name: 'link', data: text('/etc/passwd'), mode: 0o120777 }]));
    expect(err.code).toBe('ZIP_SYMLINK');
    expect(err.detail.member).toBe('link');
  });

  it('a regular file with Unix mode 0o100755 is accepted', async () => {
    const zip = await PackageZip.open(await evil([{ name: 'run.sh', data: text('#!/bin/sh'), mode: 0o100755 }]));
    zip.close();
  });

  it('duplicate names (exact) → ZIP_DUPLICATE_ENTRY', async () => {
    const err = await openError(
      await evil([
        { name: 'setup.py', data: text('1') },
        { name: 'setup.py', data: text('2') },
      ]),
    );
    expect(err.code).toBe('ZIP_DUPLICATE_ENTRY');
  });

  it('duplicate names differing only in case → ZIP_DUPLICATE_ENTRY (one file on Windows)', async () => {
    const err = await openError(
      await evil([
        { name: 'Setup.py', data: text('1') },
        { name: 'setup.py', data: text('2') },
      ]),
    );
    expect(err.code).toBe('ZIP_DUPLICATE_ENTRY');
    expect(err.detail).toMatchObject({ member: 'setup.py', other: 'Setup.py' });
  });

  it('a name that is both a file and a directory → ZIP_DUPLICATE_ENTRY', async () => {
    const err = await openError(
      await evil([
        { name: 'a', data: text('1') },
        { name: 'a/b', data: text('2') },
      ]),
    );
    expect(err.code).toBe('ZIP_DUPLICATE_ENTRY');
  });

  it('directory entry carrying data → ZIP_INVALID', async () => {
    expect((await openError(await evil([{ name: 'dir/', data: text('hidden') }]))).code).toBe('ZIP_INVALID');
  });

  it('ratio bomb (50 MB of zeros deflated) → ZIP_BOMB at open', async () => {
    const err = await openError(await evil([{ name: 'zeros', data: Buffer.alloc(50_000_000), method: 'deflate' }]));
    expect(err.code).toBe('ZIP_BOMB');
    expect(err.detail.member).toBe('zeros');
  });

  it('small highly compressible members are not ratio-checked (≤ 1 MiB)', async () => {
    const zip = await PackageZip.open(await evil([{ name: 'zeros', data: Buffer.alloc(1024 * 1024), method: 'deflate' }]));
    zip.close();
  });

  it('total declared size over maxTotalUncompressed → ZIP_BOMB', async () => {
    const p = await evil([
      { name: 'a', data: Buffer.alloc(600) },
      { name: 'b', data: Buffer.alloc(600) },
    ]);
    expect((await openError(p, { maxTotalUncompressed: 1000 })).code).toBe('ZIP_BOMB');
  });

  it('more members than maxMembers → ZIP_BOMB', async () => {
    const p = await evil([1, 2, 3].map((i) => ({ name: `f${i}`, data: text('x') })));
    expect((await openError(p, { maxMembers: 2 })).code).toBe('ZIP_BOMB');
  });

  it('overlapping members (two entries sharing one local header) → ZIP_BOMB', async () => {
    const p = await evil([
      { name: 'a', data: Buffer.alloc(100, 1) },
      { name: 'b', data: Buffer.alloc(100, 1), sameDataAs: 0 },
    ]);
    expect((await openError(p)).code).toBe('ZIP_BOMB');
  });
});

describe('structurally broken files → ZIP_INVALID naming the file', () => {
  async function good(): Promise<string> {
    return evil([
      { name: 'a.txt', data: Buffer.alloc(5000, 'a'), method: 'deflate' },
      { name: 'b.txt', data: Buffer.alloc(5000, 'b') },
    ]);
  }
  it('truncated zip (cut in half)', async () => {
    const p = await good();
    await truncateFile(p, 0.5);
    const err = await openError(p);
    expect(err.code).toBe('ZIP_INVALID');
    expect(err.message).toContain(p);
  });
  it('not a zip: random bytes', async () => {
    const p = path.join(tmp, 'random.wapt');
    await writeRandomBytes(p, 4096);
    const err = await openError(p);
    expect(err.code).toBe('ZIP_INVALID');
    expect(err.message).toContain(p);
  });
  it('not a zip: a text file', async () => {
    const p = path.join(tmp, 'text.wapt');
    await writeFile(p, 'package : tis-hello\nversion : 1\n');
    expect((await openError(p)).code).toBe('ZIP_INVALID');
  });
  it('empty file', async () => {
    const p = path.join(tmp, 'empty.wapt');
    await writeFile(p, '');
    expect((await openError(p)).code).toBe('ZIP_INVALID');
  });
  it('missing file is IO_ERROR, not ZIP_INVALID', async () => {
    expect((await openError(path.join(tmp, 'nope.wapt'))).code).toBe('IO_ERROR');
  });
  it('declared-vs-actual lie on a stored member (sizes disagree) → ZIP_INVALID at open', async () => {
    expect((await openError(await evil([{ name: 'a', data: text('0123456789'), declaredSize: 4 }]))).code).toBe('ZIP_INVALID');
  });
});

describe('streaming checks', () => {
  it('declared-vs-actual size lie: deflated member inflating past its declared size → ZIP_BOMB', async () => {
    const zip = await PackageZip.open(await evil([{ name: 'lie', data: Buffer.alloc(600_000, 7), declaredSize: 1000, method: 'deflate' }]));
    try {
      const err = await streamError(zip, 'lie');
      expect(err.code).toBe('ZIP_BOMB');
      expect(err.detail).toMatchObject({ member: 'lie', declared: 1000 });
      await expect(zip.hashAllMembers()).rejects.toMatchObject({ code: 'ZIP_BOMB' });
    } finally {
      zip.close();
    }
  });

  it('deflated member ending before its declared size → ZIP_INVALID', async () => {
    const zip = await PackageZip.open(await evil([{ name: 'short', data: text('hello'), declaredSize: 50, method: 'deflate' }]));
    try {
      expect((await streamError(zip, 'short')).code).toBe('ZIP_INVALID');
    } finally {
      zip.close();
    }
  });

  it('CRC mismatch (headers carry a wrong CRC) → ZIP_INVALID', async () => {
    const zip = await PackageZip.open(await evil([{ name: 'a', data: text('payload'), crc: 0x12345678 }]));
    try {
      const err = await streamError(zip, 'a');
      expect(err.code).toBe('ZIP_INVALID');
      expect(err.message).toContain('CRC');
    } finally {
      zip.close();
    }
  });

  it('hashAllMembers skips the CRC (the manifest digest decides) but still enforces sizes', async () => {
    const zip = await PackageZip.open(await evil([{ name: 'a', data: text('payload'), crc: 0x12345678 }]));
    try {
      expect((await zip.hashAllMembers()).get('a')).toBe(createHash('sha256').update('payload').digest('hex'));
      expect((await streamError(zip, 'a')).code).toBe('ZIP_INVALID');
    } finally {
      zip.close();
    }
  });

  it('an error raised before the consumer attaches is kept and delivered when it reads', async () => {
    const zip = await PackageZip.open(await evil([{ name: 'a', data: text('payload'), crc: 0x12345678 }]));
    try {
      const stream = await zip.openMemberStream('a');
      await new Promise((r) => setTimeout(r, 50));
      await expect(
        (async () => {
          for await (const _ of stream) void _;
        })(),
      ).rejects.toMatchObject({ code: 'ZIP_INVALID' });
    } finally {
      zip.close();
    }
  });

  it('a flipped data byte in a stored member → ZIP_INVALID (CRC)', async () => {
    const p = await evil([{ name: 'data.bin', data: Buffer.alloc(1000, 1) }]);
    await flipByte(p, 30 + 'data.bin'.length + 500);
    const zip = await PackageZip.open(p);
    try {
      expect((await streamError(zip, 'data.bin')).code).toBe('ZIP_INVALID');
    } finally {
      zip.close();
    }
  });

  it('corrupt deflate data → ZIP_INVALID', async () => {
    const p = await evil([{ name: 'z', data: Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919) % 251)), method: 'deflate' }]);
    await flipByte(p, 30 + 1 + 3);
    await flipByte(p, 30 + 1 + 40);
    const zip = await PackageZip.open(p);
    try {
      expect((await streamError(zip, 'z')).code).toBe('ZIP_INVALID');
    } finally {
      zip.close();
    }
  });
});

describe('file descriptors', () => {
  const openFds = async () => (await import('node:fs/promises')).readdir('/proc/self/fd').then((l) => l.length);

  it('close() releases the fd, also after reads, hashing and a failed stream', async () => {
    const p = await evil([
      { name: 'good', data: Buffer.alloc(3000, 2), method: 'deflate' },
      { name: 'lie', data: Buffer.alloc(600_000, 7), declaredSize: 1000, method: 'deflate' },
    ]);
    const before = await openFds();
    for (let i = 0; i < 5; i++) {
      const zip = await PackageZip.open(p);
      await zip.readMember('good', 5000);
      await expect(zip.hashAllMembers()).rejects.toMatchObject({ code: 'ZIP_BOMB' });
      zip.close();
      await expect(PackageZip.open(path.join(tmp, 'absent'))).rejects.toMatchObject({ code: 'IO_ERROR' });
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(await openFds()).toBe(before);
  });
});
