// W-F2: scanpackages over real WAPT-made packages, and over packages that must be left out.
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustStore } from '../../src/crypto/index.js';
import { field, parseControl, serializeControl } from '../../src/package/control.js';
import { signControl } from '../../src/package/control-signature.js';
import { PackageZip, readZipMemberOnce } from '../../src/package/zip-reader.js';
import { writeZip } from '../../src/package/zip-writer.js';
import { readPackagesZip } from '../../src/repo/index-file/packages-zip.js';
import { scanPackages } from '../../src/repo/scan/scan.js';

const CONF = join(process.cwd(), 'fixtures/conformance');
const KEYS = join(CONF, 'wapt-made/keys');

let tmp: string;
let trust: TrustStore;
let deployerKey: KeyObject;
let deployerCert: X509Certificate;
let rogueKey: KeyObject;
let rogueCert: X509Certificate;
let n = 0;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-scan-'));
  trust = await TrustStore.load(join(CONF, 'wapt-made/trusted'));
  deployerKey = createPrivateKey(await readFile(join(KEYS, 'deployer.pem')));
  deployerCert = new X509Certificate(await readFile(join(KEYS, 'deployer.crt')));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=rogue-signer',
      '-days',
      '3650',
      '-keyout',
      join(tmp, 'rogue.pem'),
      '-out',
      join(tmp, 'rogue.crt'),
    ],
    { stdio: 'ignore' },
  );
  rogueKey = createPrivateKey(await readFile(join(tmp, 'rogue.pem')));
  rogueCert = new X509Certificate(await readFile(join(tmp, 'rogue.crt')));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A fresh repo dir holding copies of the conformance *.wapt (no Packages). */
async function repoCopy(set = 'wapt-made'): Promise<string> {
  const dir = join(tmp, `repo-${++n}`);
  execFileSync('mkdir', [dir]);
  const src = join(CONF, set, 'repo');
  for (const f of (await readdir(src)).filter((f) => f.endsWith('.wapt'))) await copyFile(join(src, f), join(dir, f));
  return dir;
}

/** Every member of `src`, with some replaced or added, written to `dest`. */
async function rewritePackage(src: string, dest: string, replace: Record<string, Buffer>): Promise<void> {
  const zip = await PackageZip.open(src);
  const inputs: { name: string; source: { buffer: Buffer } }[] = [];
  try {
    for (const m of zip.members) {
      if (m.isDirectory || m.name in replace) continue;
      inputs.push({ name: m.name, source: { buffer: await zip.readMember(m.name, 1 << 24) } });
    }
  } finally {
    zip.close();
  }
  for (const [name, buffer] of Object.entries(replace)) inputs.push({ name, source: { buffer } });
  await writeZip(dest, inputs, { mtime: new Date('2026-01-01T00:00:00Z') });
}

async function controlOf(path: string) {
  return parseControl((await readZipMemberOnce(path, 'WAPT/control', 1 << 20)).toString('utf8'));
}

function collect(): { warnings: string[]; onWarning: (m: string) => void } {
  const warnings: string[] = [];
  return { warnings, onWarning: (m) => warnings.push(m) };
}

describe.each(['wapt-made', 'wapt-made-py2'])('W-F2 scan of the conformance repository %s', (set) => {
  test('every package is indexed: control text as in the package, size/md5/sha256 of the file', async () => {
    const dir = await repoCopy(set);
    const res = await scanPackages(dir, { trust });
    const files = (await readdir(dir)).filter((f) => f.endsWith('.wapt'));
    expect(res).toMatchObject({ indexed: files.length, skipped: [], hashed: files.length, reusedFromCache: 0, path: join(dir, 'Packages') });
    const idx = await readPackagesZip(res.path);
    expect(idx.entries.map((e) => field(e, 'filename')).sort()).toEqual(files.sort());
    for (const e of idx.entries) {
      const file = join(dir, field(e, 'filename'));
      const bytes = await readFile(file);
      const control = (await readZipMemberOnce(file, 'WAPT/control', 1 << 20)).toString('utf8');
      const withoutIndex = new Map([...e].filter(([k]) => !['filename', 'size', 'md5sum', 'sha256'].includes(k)));
      expect(serializeControl(withoutIndex)).toBe(control);
      expect(field(e, 'size')).toBe(String(bytes.length));
      expect(field(e, 'md5sum')).toBe(createHash('md5').update(bytes).digest('hex'));
      expect(field(e, 'sha256')).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(idx.certificates.has(field(e, 'signer_fingerprint'))).toBe(true);
    }
  });
});

describe('W-F2 scan: order and format', () => {
  test('entries sorted by package then version (W-B4: 1.2.3-4 before 1.10.0-1)', async () => {
    const res = await scanPackages(await repoCopy(), {});
    const idx = await readPackagesZip(res.path);
    expect(idx.entries.map((e) => `${field(e, 'package')} ${field(e, 'version')}`)).toEqual([
      'tis-extra 0.9-2',
      'tis-group-demo 3-1',
      'tis-hello 1.2.3-4',
      'tis-hello 1.10.0-1',
    ]);
    const text = idx.packagesBytes.toString('utf8');
    expect(text.endsWith('\n') && !text.endsWith('\n\n')).toBe(true);
    expect(text.split('\n\n')).toHaveLength(4);
  });
});

describe('W-F2 scan: packages left out', () => {
  test('tampered control (field edited after signing): skipped with a warning naming the file', async () => {
    const dir = await repoCopy();
    const file = 'tis-hello_1.2.3-4_PROD.wapt';
    const text = (await readZipMemberOnce(join(dir, file), 'WAPT/control', 1 << 20)).toString('utf8');
    const edited = text.replace('Hello package with setup code', 'Hello package, now with extras');
    expect(edited).not.toBe(text);
    await rewritePackage(join(CONF, 'wapt-made/repo', file), join(dir, file), { 'WAPT/control': Buffer.from(edited) });
    const { warnings, onWarning } = collect();
    const res = await scanPackages(dir, { trust, onWarning });
    expect(res.indexed).toBe(3);
    expect(res.skipped).toEqual([expect.objectContaining({ file, code: 'CONTROL_SIGNATURE_INVALID' })]);
    expect(warnings.some((w) => w.includes(file) && /signature/.test(w))).toBe(true);
    const idx = await readPackagesZip(res.path);
    expect(idx.entries.map((e) => field(e, 'filename'))).not.toContain(file);
  });

  test('tampered control with strict: the scan fails naming the file, Packages is not written', async () => {
    const dir = await repoCopy();
    const file = 'tis-extra_0.9-2_x64_DEV_fr.wapt';
    const text = (await readZipMemberOnce(join(dir, file), 'WAPT/control', 1 << 20)).toString('utf8');
    await rewritePackage(join(CONF, 'wapt-made/repo', file), join(dir, file), {
      'WAPT/control': Buffer.from(text.replace('maturity          : DEV', 'maturity          : PROD')),
    });
    await expect(scanPackages(dir, { trust, strict: true })).rejects.toMatchObject({
      code: 'CONTROL_SIGNATURE_INVALID',
      message: expect.stringContaining(file),
    });
    await expect(readFile(join(dir, 'Packages'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('signer not in the trusted directory: skipped (SIGNER_UNTRUSTED); indexed when no trust is given', async () => {
    const dir = await repoCopy();
    const src = join(CONF, 'wapt-made/repo/tis-group-demo_3-1_PROD.wapt');
    const signed = signControl(await controlOf(src), { key: rogueKey, cert: rogueCert, date: new Date(), reproducible: false });
    await rewritePackage(src, join(dir, 'tis-group-demo_3-1_PROD.wapt'), {
      'WAPT/control': Buffer.from(serializeControl(signed)),
      'WAPT/certificate.crt': Buffer.from(rogueCert.toString()),
    });
    const res = await scanPackages(dir, { trust });
    expect(res.skipped.map((s) => [s.file, s.code])).toEqual([['tis-group-demo_3-1_PROD.wapt', 'SIGNER_UNTRUSTED']]);
    expect((await scanPackages(dir, {})).indexed).toBe(4);
  });

  test('W-D5: setup code signed by a non-code-signing certificate: skipped (CODESIGNING_REQUIRED)', async () => {
    const dir = await repoCopy();
    const file = 'tis-hello_1.10.0-1_PROD.wapt';
    const signed = signControl(await controlOf(join(dir, file)), { key: deployerKey, cert: deployerCert, date: new Date(), reproducible: false });
    await rewritePackage(join(CONF, 'wapt-made/repo', file), join(dir, file), {
      'WAPT/control': Buffer.from(serializeControl(signed)),
      'WAPT/certificate.crt': Buffer.from(deployerCert.toString()),
    });
    const res = await scanPackages(dir, { trust });
    expect(res.skipped).toEqual([expect.objectContaining({ file, code: 'CODESIGNING_REQUIRED' })]);
  });

  test('W-F4: a host package is not listed in the main index', async () => {
    const dir = await repoCopy();
    const host = parseControl(
      'package           : 6b7a3e1c-0d7e-4b44-9c43-2a6f1f1d0a11\nversion           : 3\nsection           : host\ndepends           : tis-hello',
    );
    await writeZip(
      join(dir, '6b7a3e1c-0d7e-4b44-9c43-2a6f1f1d0a11.wapt'),
      [{ name: 'WAPT/control', source: { buffer: Buffer.from(serializeControl(host)) } }],
      {
        mtime: new Date(0),
      },
    );
    const res = await scanPackages(dir, {});
    expect(res.indexed).toBe(4);
    expect(res.skipped).toEqual([expect.objectContaining({ file: '6b7a3e1c-0d7e-4b44-9c43-2a6f1f1d0a11.wapt', code: 'HOST_PACKAGE' })]);
  });

  test('a .wapt that is not a zip, and one without WAPT/control: skipped with their reasons', async () => {
    const dir = await repoCopy();
    await writeFile(join(dir, 'broken_1_PROD.wapt'), 'not a zip at all');
    await writeZip(join(dir, 'nocontrol_1_PROD.wapt'), [{ name: 'setup.py', source: { buffer: Buffer.from('pass\n') } }], { mtime: new Date(0) });
    const { warnings, onWarning } = collect();
    const res = await scanPackages(dir, { trust, onWarning });
    expect(res.indexed).toBe(4);
    expect(res.skipped.map((s) => [s.file, s.code])).toEqual([
      ['broken_1_PROD.wapt', 'ZIP_INVALID'],
      ['nocontrol_1_PROD.wapt', 'CONTROL_PARSE'],
    ]);
    expect(warnings.filter((w) => w.includes('broken_1_PROD.wapt'))).toHaveLength(1);
  });

  test('a file name with a line break (it would split the index entry): skipped (INDEX_INVALID)', async () => {
    const dir = await repoCopy();
    await copyFile(join(dir, 'tis-extra_0.9-2_x64_DEV_fr.wapt'), join(dir, 'evil\nname.wapt'));
    const res = await scanPackages(dir, {});
    expect(res.indexed).toBe(4);
    expect(res.skipped).toEqual([expect.objectContaining({ file: 'evil\nname.wapt', code: 'INDEX_INVALID' })]);
  });

  test('an empty directory gives an index with an empty Packages member', async () => {
    const dir = join(tmp, 'empty');
    execFileSync('mkdir', [dir]);
    const res = await scanPackages(dir, {});
    expect(res.indexed).toBe(0);
    expect((await readPackagesZip(res.path)).packagesBytes.length).toBe(0);
  });
});
