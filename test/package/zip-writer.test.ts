// Deterministic writing: same inputs + mtime → same bytes, in any time zone;
// the system's unzip (a real peer) accepts what we write; our reader reads it back.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { WaptError } from '../../src/errors.js';
import { PackageZip } from '../../src/package/zip-reader.js';
import { shouldCompress, sourceDateEpoch, writeZip, type ZipInput } from '../../src/package/zip-writer.js';

let tmp: string;
let payload: string;
let installer: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'zip-writer-'));
  payload = path.join(tmp, 'payload.txt');
  installer = path.join(tmp, 'setup.exe');
  await writeFile(payload, 'line\n'.repeat(20_000));
  await writeFile(installer, randomBytes(300_000));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});
const MTIME = new Date('2024-03-31T02:30:00Z'); // a DST gap in Europe: a local-time encoder would shift it

function inputs(): ZipInput[] {
  return [
    { name: 'payload.txt', source: { path: payload } },
    { name: 'bin/setup.exe', source: { path: installer } },
    { name: 'données/été.txt', source: { buffer: Buffer.from('Supplément\n') } },
    { name: 'WAPT/control', source: { buffer: Buffer.from('package : tis-x') } },
  ];
}

describe('writeZip', () => {
  it('two writes of the same inputs and mtime give identical bytes', async () => {
    const a = path.join(tmp, 'a.wapt');
    const b = path.join(tmp, 'b.wapt');
    const ra = await writeZip(a, inputs(), { mtime: MTIME });
    await writeZip(b, inputs(), { mtime: MTIME });
    const [ba, bb] = [await readFile(a), await readFile(b)];
    expect(ra.size).toBe(ba.length);
    expect(ba.equals(bb)).toBe(true);
  });

  it('gives the same bytes in different time zones (DOS time written from UTC), in real child processes', async () => {
    // TZ cannot be changed inside jest's sandbox, so the writer runs in child
    // node processes: its sources are transpiled (typescript) to plain ESM.
    const out = path.join(tmp, 'child');
    for (const rel of [
      'src/errors.ts',
      'src/lazy-require.ts',
      'src/package/hash-stream.ts',
      'src/package/zip-names.ts',
      'src/package/zip-builder.ts',
      'src/package/zip-writer.ts',
    ]) {
      const js = ts.transpileModule(await readFile(rel, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      }).outputText;
      await mkdir(path.dirname(path.join(out, rel)), { recursive: true });
      await writeFile(path.join(out, rel.replace(/\.ts$/, '.js')), js);
    }
    await writeFile(path.join(out, 'package.json'), '{"type":"module"}');
    await symlink(path.resolve('node_modules'), path.join(out, 'node_modules'));
    await writeFile(
      path.join(out, 'run.js'),
      `import { writeZip } from './src/package/zip-writer.js';
       await writeZip(process.argv[2], [
         { name: 'payload.txt', source: { path: process.argv[3] } },
         { name: 'données/été.txt', source: { buffer: Buffer.from('Supplément') } },
       ], { mtime: new Date(${JSON.stringify(MTIME.toISOString())}) });`,
    );
    const digests = new Map<string, string>();
    for (const tz of ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata']) {
      const p = path.join(tmp, `${tz.replace('/', '_')}.wapt`);
      execFileSync(process.execPath, [path.join(out, 'run.js'), p, payload], { env: { ...process.env, TZ: tz, NODE_OPTIONS: '' } });
      digests.set(
        tz,
        createHash('sha256')
          .update(await readFile(p))
          .digest('hex'),
      );
    }
    expect(new Set(digests.values()).size).toBe(1);
  });

  it('is accepted by the system unzip -t, with the UTC time in the DOS fields', async () => {
    const p = path.join(tmp, 'pkg.wapt');
    await writeZip(p, inputs(), { mtime: MTIME });
    const out = execFileSync('unzip', ['-t', p], { encoding: 'utf8' });
    expect(out).toContain('No errors detected');
    const listing = execFileSync('zipinfo', ['-T', p], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    expect(listing).toContain('20240331.023000');
    expect(listing).toMatch(/-rw-r--r--/);
  });

  it('round-trips UTF-8 names (données/été.txt) and content through our reader; member order kept', async () => {
    const p = path.join(tmp, 'pkg.wapt');
    await writeZip(p, inputs(), { mtime: MTIME });
    const zip = await PackageZip.open(p);
    try {
      expect(zip.members.map((m) => m.name)).toEqual(inputs().map((i) => i.name));
      expect((await zip.readMember('données/été.txt', 100)).toString('utf8')).toBe('Supplément\n');
      const hashes = await zip.hashAllMembers();
      expect(hashes.get('payload.txt')).toBe(
        createHash('sha256')
          .update(await readFile(payload))
          .digest('hex'),
      );
      expect(hashes.get('bin/setup.exe')).toBe(
        createHash('sha256')
          .update(await readFile(installer))
          .digest('hex'),
      );
      const byName = new Map(zip.members.map((m) => [m.name, m]));
      // text deflated, installer stored
      expect(byName.get('payload.txt')!.compressedSize).toBeLessThan(byName.get('payload.txt')!.uncompressedSize / 10);
      expect(byName.get('bin/setup.exe')!.compressedSize).toBe(300_000);
      expect(zip.members.some((m) => m.isDirectory)).toBe(false);
    } finally {
      zip.close();
    }
  });

  it('a real peer (python zipfile) reads the UTF-8 name back', async () => {
    const p = path.join(tmp, 'pkg.wapt');
    await writeZip(p, inputs(), { mtime: MTIME });
    const names = execFileSync('python3', ['-c', 'import sys,zipfile,json;print(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))', p], {
      encoding: 'utf8',
    });
    expect(JSON.parse(names)).toContain('données/été.txt');
  });

  it('honours compress: false and the level option', async () => {
    const p1 = path.join(tmp, 'l1.wapt');
    const p9 = path.join(tmp, 'l9.wapt');
    const p0 = path.join(tmp, 'stored.wapt');
    const src = [{ name: 'a.txt', source: { buffer: Buffer.from(randomBytes(50_000).toString('hex')) } }];
    const s1 = (await writeZip(p1, src, { mtime: MTIME, level: 1 })).size;
    const s9 = (await writeZip(p9, src, { mtime: MTIME, level: 9 })).size;
    const s0 = (await writeZip(p0, [{ ...src[0]!, compress: false }], { mtime: MTIME })).size;
    expect(s9).toBeLessThan(s1);
    expect(s0).toBeGreaterThan(100_000);
  });

  it('refuses unsafe and duplicate names and leaves no file behind', async () => {
    const dest = path.join(tmp, 'bad.wapt');
    await expect(writeZip(dest, [{ name: '../x', source: { buffer: Buffer.from('x') } }], { mtime: MTIME })).rejects.toMatchObject({
      code: 'ZIP_UNSAFE_PATH',
    });
    const dup = [
      { name: 'a', source: { buffer: Buffer.from('1') } },
      { name: 'a', source: { buffer: Buffer.from('2') } },
    ];
    await expect(writeZip(dest, dup, { mtime: MTIME })).rejects.toMatchObject({ code: 'ZIP_DUPLICATE_ENTRY' });
    expect((await readdir(tmp)).filter((f) => f.startsWith('bad.wapt'))).toEqual([]);
  });

  it('a missing source file fails with IO_ERROR and removes the temp file; an existing dest is untouched', async () => {
    const dest = path.join(tmp, 'keep.wapt');
    await writeFile(dest, 'old');
    const bad: ZipInput[] = [...inputs(), { name: 'gone', source: { path: path.join(tmp, 'nope') } }];
    await expect(writeZip(dest, bad, { mtime: MTIME })).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(await readFile(dest, 'utf8')).toBe('old');
    expect((await readdir(tmp)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a source that fails while streaming (a directory: EISDIR) removes the half-written temp file', async () => {
    const dest = path.join(tmp, 'half.wapt');
    const bad: ZipInput[] = [...inputs(), { name: 'dir', source: { path: tmp } }];
    await expect(writeZip(dest, bad, { mtime: MTIME })).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect((await readdir(tmp)).filter((f) => f.startsWith('half.wapt'))).toEqual([]);
  });
});

describe('shouldCompress', () => {
  it.each([
    ['setup.py', true],
    ['WAPT/control', true],
    ['bin/app.EXE', false],
    ['x.msi', false],
    ['a.tar.gz', false],
    ['icon.png', false],
    ['p.deb', false],
  ])('%s → %s', (name, expected) => {
    expect(shouldCompress(name)).toBe(expected);
  });
});

describe('sourceDateEpoch', () => {
  it('reads integer seconds as a UTC date', () => {
    expect(sourceDateEpoch({ SOURCE_DATE_EPOCH: '1700000000' })?.toISOString()).toBe('2023-11-14T22:13:20.000Z');
  });
  it('is undefined when unset or empty', () => {
    expect(sourceDateEpoch({})).toBeUndefined();
    expect(sourceDateEpoch({ SOURCE_DATE_EPOCH: '' })).toBeUndefined();
  });
  it.each(['yesterday', '-5', '1.5', '12abc'])('refuses the malformed value %j', (v) => {
    expect(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: v })).toThrow(WaptError);
  });
});
