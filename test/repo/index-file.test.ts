// W-F1: reading and writing the `Packages` zip, checked against indexes made by WAPT.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintSha256, TrustStore } from '../../src/crypto/index.js';
import { field } from '../../src/package/control.js';
import { verifyControlSignature } from '../../src/package/control-signature.js';
import { readZipMemberOnce } from '../../src/package/zip-reader.js';
import { writeZip } from '../../src/package/zip-writer.js';
import { parsePackagesText, serializePackagesText } from '../../src/repo/index-file/packages-text.js';
import { readPackagesZip, writePackagesZip } from '../../src/repo/index-file/packages-zip.js';
import { isWaptError } from '../../src/errors.js';

const CONF = join(process.cwd(), 'fixtures/conformance');
const SETS = [
  { name: 'wapt-made', count: 4, packages: ['tis-hello', 'tis-hello', 'tis-group-demo', 'tis-extra'] },
  { name: 'wapt-made-py2', count: 3, packages: ['tis-py2hello', 'tis-py2group', 'tis-py2extra'] },
];

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-index-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function zipMemberNames(path: string): string[] {
  return execFileSync('unzip', ['-Z1', path], { encoding: 'utf8' }).trim().split('\n');
}

describe.each(SETS)('W-F1 conformance index $name', ({ name, count, packages }) => {
  const path = join(CONF, name, 'repo/Packages');

  test('every entry is read, with its index fields and ssl/ certificates keyed by real fingerprint', async () => {
    const idx = await readPackagesZip(path);
    expect(idx.entries).toHaveLength(count);
    expect(idx.entries.map((e) => field(e, 'package')).sort()).toEqual([...packages].sort());
    for (const e of idx.entries) {
      expect(field(e, 'filename')).toMatch(/\.wapt$/);
      const bytes = await readFile(join(CONF, name, 'repo', field(e, 'filename')));
      expect(Number(field(e, 'size'))).toBe(bytes.length);
      expect(idx.certificates.has(field(e, 'signer_fingerprint'))).toBe(true);
    }
    expect([...idx.certificates.keys()].sort()).toEqual(
      zipMemberNames(path)
        .filter((m) => m.startsWith('ssl/'))
        .map((m) => m.slice(4, -4))
        .sort(),
    );
    for (const [fp, cert] of idx.certificates) expect(fingerprintSha256(cert)).toBe(fp);
    expect(idx.statement).toBeNull(); // WAPT-made: no X2 statement, still reads
    expect(idx.crls).toEqual([]);
  });

  test('parse then serialise gives the Packages member byte for byte', async () => {
    const original = await readZipMemberOnce(path, 'Packages', 1 << 24);
    const idx = await readPackagesZip(path);
    expect(idx.packagesBytes.equals(original)).toBe(true);
    expect(Buffer.from(serializePackagesText(parsePackagesText(original.toString('utf8'))), 'utf8').equals(original)).toBe(true);
  });

  test('W-F3: every entry verifies with the index certificates chained to the trusted dir', async () => {
    const idx = await readPackagesZip(path);
    const trust = await TrustStore.load(join(CONF, 'wapt-made/trusted'));
    for (const e of idx.entries) {
      const v = verifyControlSignature(e, { certificates: [...idx.certificates.values()], trust, at: new Date() });
      expect(v.fingerprint).toBe(field(e, 'signer_fingerprint'));
    }
  });

  test('write then read gives the same Packages bytes and the same certificates', async () => {
    const idx = await readPackagesZip(path);
    const dest = join(tmp, `${name}-Packages`);
    const res = await writePackagesZip(dest, { entries: idx.entries, certificates: idx.certificates.values() });
    expect(res.packagesBytes.equals(idx.packagesBytes)).toBe(true);
    expect(res.statement).toBeNull();
    const again = await readPackagesZip(dest);
    expect(again.packagesBytes.equals(idx.packagesBytes)).toBe(true);
    expect([...again.certificates.keys()].sort()).toEqual([...idx.certificates.keys()].sort());
    // Names as WAPT writes them (W-F1), readable by a plain unzip.
    expect(zipMemberNames(dest)).toEqual(['Packages', ...[...idx.certificates.keys()].sort().map((fp) => `ssl/${fp}.crt`)]);
  });

  test("WAPT's reader (Python zipfile) accepts the written zip: CRCs hold, Packages bytes equal", async () => {
    const idx = await readPackagesZip(path);
    const dest = join(tmp, `${name}-Packages-py`);
    await writePackagesZip(dest, { entries: idx.entries, certificates: idx.certificates.values() });
    const script = 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nsys.stdout.buffer.write(z.read("Packages"))';
    const out = execFileSync('python3', ['-c', script, dest], { maxBuffer: 1 << 26 });
    expect(out.equals(idx.packagesBytes)).toBe(true);
  });
});

describe('parsePackagesText (W-F1, W-C1)', () => {
  const a = 'package           : a\nversion           : 1';
  const b = 'package           : b\nversion           : 2';

  test('blocks separated by one empty line, text ending with "\\n"', () => {
    expect(parsePackagesText(`${a}\n\n${b}\n`).map((e) => field(e, 'package'))).toEqual(['a', 'b']);
  });

  test('a trailing empty line is accepted', () => {
    expect(parsePackagesText(`${a}\n\n${b}\n\n`)).toHaveLength(2);
  });

  test('whitespace-only and repeated separator lines, and CRLF, still separate blocks', () => {
    expect(parsePackagesText(`${a}\n  \n\n${b}`).map((e) => field(e, 'version'))).toEqual(['1', '2']);
    expect(parsePackagesText(`${a.replace('\n', '\r\n')}\r\n\r\n${b}\r\n`).map((e) => field(e, 'package'))).toEqual(['a', 'b']);
  });

  test('a continuation line stays inside its block', () => {
    const [e] = parsePackagesText('package           : a\ndescription       : one\n two\n');
    expect(field(e!, 'description')).toBe('one\ntwo');
  });

  test('empty index text gives no entries, and no entries serialise to an empty member', () => {
    expect(parsePackagesText('')).toEqual([]);
    expect(parsePackagesText('\n\n')).toEqual([]);
    expect(serializePackagesText([])).toBe('');
  });

  test('malformed block: INDEX_INVALID naming the entry', () => {
    let err: unknown;
    try {
      parsePackagesText(`${a}\n\nthis line has no colon\n`);
    } catch (e) {
      err = e;
    }
    expect(isWaptError(err, 'INDEX_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/entry 2/);
  });
});

describe('index zip of a large index', () => {
  test('a Packages text over several deflate chunks reads back identically, also with Python zipfile', async () => {
    const block = (await readPackagesZip(join(CONF, 'wapt-made/repo/Packages'))).packagesBytes.toString('utf8').split('\n\n')[0]!;
    const entries = parsePackagesText(Array.from({ length: 3000 }, (_, i) => block.replace(/tis-hello/g, `tis-big-${i}`)).join('\n\n'));
    const dest = join(tmp, 'big-Packages');
    const res = await writePackagesZip(dest, { entries, certificates: [] });
    expect(res.packagesBytes.length).toBeGreaterThan(5 * 1024 * 1024);
    expect((await readPackagesZip(dest)).packagesBytes.equals(res.packagesBytes)).toBe(true);
    const script =
      'import sys, zipfile, hashlib\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(hashlib.sha256(z.read("Packages")).hexdigest())';
    const digest = execFileSync('python3', ['-c', script, dest], { encoding: 'utf8' }).trim();
    expect(digest).toBe(createHash('sha256').update(res.packagesBytes).digest('hex'));
  });
});

describe('readPackagesZip bad input', () => {
  test('a file that is not a zip: INDEX_INVALID', async () => {
    const p = join(tmp, 'not-a-zip');
    await writeFile(p, 'package: x\n');
    await expect(readPackagesZip(p)).rejects.toMatchObject({ code: 'INDEX_INVALID' });
  });

  test('a zip without a Packages member: INDEX_INVALID', async () => {
    const p = join(tmp, 'no-member.zip');
    await writeZip(p, [{ name: 'other.txt', source: { buffer: Buffer.from('x') } }], { mtime: new Date(0) });
    await expect(readPackagesZip(p)).rejects.toMatchObject({ code: 'INDEX_INVALID' });
  });

  test('a missing file: IO_ERROR', async () => {
    await expect(readPackagesZip(join(tmp, 'absent'))).rejects.toMatchObject({ code: 'IO_ERROR' });
  });

  test('an unparseable ssl/ member is left out with a warning, the rest still reads', async () => {
    const p = join(tmp, 'bad-cert');
    await writeZip(
      p,
      [
        { name: 'Packages', source: { buffer: Buffer.from('package           : a\nversion           : 1\n') } },
        { name: 'ssl/deadbeef.crt', source: { buffer: Buffer.from('not a certificate') } },
      ],
      { mtime: new Date(0) },
    );
    const warnings: string[] = [];
    const idx = await readPackagesZip(p, { onWarning: (m) => warnings.push(m) });
    expect(idx.entries).toHaveLength(1);
    expect(idx.certificates.size).toBe(0);
    expect(warnings.join('\n')).toMatch(/ssl\/deadbeef\.crt/);
  });
});
