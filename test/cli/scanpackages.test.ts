// `wapt-get scanpackages` through the real CLI (bin/wapt-get → dist/), over copies of
// the packages real WAPT made (fixtures/conformance/wapt-made). W-F1, W-F2, X2.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustStore } from '../../src/crypto/index.js';
import { field } from '../../src/package/control.js';
import { verifyControlSignature } from '../../src/package/control-signature.js';
import { PackageZip, readZipMemberOnce } from '../../src/package/zip-reader.js';
import { writeZip } from '../../src/package/zip-writer.js';
import { readPackagesZip } from '../../src/repo/index-file/packages-zip.js';
import { verifyStatement } from '../../src/repo/statement/statement.js';
import { runCli, type CliResult } from '../helpers/cli.js';

const MADE = join(process.cwd(), 'fixtures/conformance/wapt-made');
const TRUSTED = join(MADE, 'trusted');
const KEY = join(MADE, 'keys/codesigner.pem');
const CERT = join(MADE, 'keys/codesigner.crt');
const TAMPERED = 'tis-hello_1.2.3-4_PROD.wapt';

let tmp: string;
let noConfig: string;
let trust: TrustStore;
let n = 0;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-cli-scan-'));
  noConfig = join(tmp, 'absent/wapt-get.ini'); // no ini, no ssl/ beside it
  trust = await TrustStore.load(TRUSTED);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function repoCopy(): Promise<string> {
  const dir = join(tmp, `repo-${++n}`);
  await mkdir(dir);
  for (const f of (await readdir(join(MADE, 'repo'))).filter((f) => f.endsWith('.wapt'))) await copyFile(join(MADE, 'repo', f), join(dir, f));
  return dir;
}

/** The package with one control field edited after signing (a valid zip, a broken control signature). */
async function tamper(dir: string, file = TAMPERED): Promise<void> {
  const src = join(MADE, 'repo', file);
  const control = (await readZipMemberOnce(src, 'WAPT/control', 1 << 20)).toString('utf8');
  const edited = control.replace(/^(description\s*: ).*$/m, '$1Hello package, quietly edited');
  expect(edited).not.toBe(control);
  const zip = await PackageZip.open(src);
  const inputs: { name: string; source: { buffer: Buffer } }[] = [];
  try {
    for (const m of zip.members) {
      if (!m.isDirectory && m.name !== 'WAPT/control') inputs.push({ name: m.name, source: { buffer: await zip.readMember(m.name, 1 << 24) } });
    }
  } finally {
    zip.close();
  }
  inputs.push({ name: 'WAPT/control', source: { buffer: Buffer.from(edited) } });
  await unlink(join(dir, file));
  await writeZip(join(dir, file), inputs, { mtime: new Date('2026-01-01T00:00:00Z') });
}

function scan(args: string[], config = noConfig): Promise<CliResult> {
  return runCli(['-c', config, 'scanpackages', ...args]);
}

describe('scanpackages: W-F2 index of real WAPT packages', () => {
  test('--trusted: all four indexed; every entry verifies with the index ssl/ certificates chained to trusted/ (conformance expectation)', async () => {
    const dir = await repoCopy();
    const r = await scan([dir, '--trusted', TRUSTED]);
    expect(r.stderr).not.toMatch(/NOT verified/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^indexed 4 package\(s\) into .*Packages$/m);
    expect(r.stdout).toMatch(/^skipped 0$/m);
    expect(r.stdout).toMatch(/^reused from cache 0, hashed 4$/m);
    expect(r.stdout).toMatch(/index statement: not signed/);

    const idx = await readPackagesZip(join(dir, 'Packages'));
    const files = (await readdir(dir)).filter((f) => f.endsWith('.wapt')).sort();
    expect(idx.entries.map((e) => field(e, 'filename')).sort()).toEqual(files);
    expect(idx.statement).toBeNull();
    for (const e of idx.entries) {
      const v = verifyControlSignature(e, { certificates: [...idx.certificates.values()], trust });
      expect(v.fingerprint).toBe(field(e, 'signer_fingerprint'));
      const bytes = await readFile(join(dir, field(e, 'filename')));
      expect(field(e, 'size')).toBe(String(bytes.length));
      expect(field(e, 'md5sum')).toBe(createHash('md5').update(bytes).digest('hex'));
    }
  });

  test('W-F2 cache: a rerun hashes nothing, reuses all four, and leaves Packages untouched (same mtime)', async () => {
    const dir = await repoCopy();
    expect((await scan([dir, '--trusted', TRUSTED])).code).toBe(0);
    const before = await stat(join(dir, 'Packages'));
    const r = await scan([dir, '--trusted', TRUSTED]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^reused from cache 4, hashed 0$/m);
    expect(r.stdout).toMatch(/unchanged, not rewritten/);
    expect((await stat(join(dir, 'Packages'))).mtimeMs).toBe(before.mtimeMs);
  });

  test('alias scan-packages and --json: machine-readable counts', async () => {
    const dir = await repoCopy();
    const r = await runCli(['-c', noConfig, '--json', 'scan-packages', dir, '--trusted', TRUSTED]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      path: join(dir, 'Packages'),
      indexed: 4,
      skipped: [],
      reused_from_cache: 0,
      hashed: 4,
      written: true,
      verified: true,
      statement: null,
    });
  });
});

describe('scanpackages: packages left out', () => {
  test('tampered control: skipped with a warning naming the file, the other three indexed, exit 0', async () => {
    const dir = await repoCopy();
    await tamper(dir);
    const r = await runCli(['-c', noConfig, '--json', 'scanpackages', dir, '--trusted', TRUSTED]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`warning: skipped ${TAMPERED.replace(/\./g, '\\.')}: .*signature`));
    const out = JSON.parse(r.stdout);
    expect(out.indexed).toBe(3);
    expect(out.skipped).toEqual([expect.objectContaining({ file: TAMPERED, code: 'CONTROL_SIGNATURE_INVALID' })]);
    const idx = await readPackagesZip(join(dir, 'Packages'));
    expect(idx.entries.map((e) => field(e, 'filename'))).not.toContain(TAMPERED);
  });

  test('tampered control with --strict: exit 3 (VERIFY) naming the file, no Packages written', async () => {
    const dir = await repoCopy();
    await tamper(dir);
    const r = await scan([dir, '--trusted', TRUSTED, '--strict']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('[CONTROL_SIGNATURE_INVALID]');
    expect(r.stderr).toContain(TAMPERED);
    await expect(stat(join(dir, 'Packages'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('no --trusted and no trusted certificates in the config: a warning, nothing verified, tampered one indexed', async () => {
    const dir = await repoCopy();
    await tamper(dir);
    const r = await scan([dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/control signatures are NOT verified/);
    expect(r.stdout).toMatch(/^indexed 4 /m);
  });

  test('default trust: ssl/ beside wapt-get.ini is used when it holds certificates (tampered one skipped)', async () => {
    const dir = await repoCopy();
    await tamper(dir);
    const confDir = join(tmp, `conf-${++n}`);
    await mkdir(join(confDir, 'ssl'), { recursive: true });
    await copyFile(join(TRUSTED, 'ca.crt'), join(confDir, 'ssl/ca.crt'));
    await writeFile(join(confDir, 'wapt-get.ini'), '[global]\n');
    const r = await scan([dir], join(confDir, 'wapt-get.ini'));
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/NOT verified/);
    expect(r.stdout).toMatch(/^indexed 3 /m);
    expect(r.stdout).toMatch(/^skipped 1$/m);
  });
});

describe('scanpackages: X2 signed index statement', () => {
  test('--sign --key --cert --expires 2h: statement verifies against trusted/, version and expiry printed; a rescan raises the version', async () => {
    const dir = await repoCopy();
    const started = Date.now();
    const r = await scan([dir, '--trusted', TRUSTED, '--sign', '--key', KEY, '--cert', CERT, '--expires', '2h']);
    expect(r.code).toBe(0);
    const m = /^signed index statement version (\d+), expires (\S+)$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    const idx = await readPackagesZip(join(dir, 'Packages'));
    expect(idx.entries).toHaveLength(4);
    const v = verifyStatement(idx.statement!.bytes, idx.statement!.signature, idx.packagesBytes, {
      trust,
      certificates: idx.certificates,
      lastSeenVersion: null,
      requireSigned: true,
    })!;
    expect(v.version).toBe(Number(m![1]));
    expect(v.expires.toISOString()).toBe(m![2]);
    const lifetime = v.expires.getTime() - started;
    expect(lifetime).toBeGreaterThan(2 * 3600_000 - 60_000);
    expect(lifetime).toBeLessThanOrEqual(2 * 3600_000 + 60_000);

    const again = await scan([dir, '--trusted', TRUSTED, '--key', KEY, '--cert', CERT]);
    expect(again.code).toBe(0);
    const v2 = Number(/version (\d+)/.exec(again.stdout)![1]);
    expect(v2).toBeGreaterThan(v.version);
  });

  test('signs by default with private_key / personal_certificate_path from the config; --no-sign does not, and warns when it drops a statement', async () => {
    const dir = await repoCopy();
    const ini = join(tmp, `signing-${++n}.ini`);
    await writeFile(ini, `[global]\nprivate_key = ${KEY}\npersonal_certificate_path = ${CERT}\n`);
    const signed = await scan([dir, '--trusted', TRUSTED], ini);
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(/^signed index statement version \d+/m);
    expect((await readPackagesZip(join(dir, 'Packages'))).statement).not.toBeNull();

    await unlink(join(dir, TAMPERED)); // a change, so the index is rewritten
    const unsigned = await scan([dir, '--trusted', TRUSTED, '--no-sign'], ini);
    expect(unsigned.code).toBe(0);
    expect(unsigned.stdout).toMatch(/index statement: not signed/);
    expect(unsigned.stderr).toMatch(/INDEX_UNSIGNED/);
    expect((await readPackagesZip(join(dir, 'Packages'))).statement).toBeNull();
  });

  test('--sign without any key (none given, none configured): exit 2 (USAGE)', async () => {
    const dir = await repoCopy();
    const r = await scan([dir, '--sign']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/signing key and certificate are needed/);
  });
});

describe('scanpackages: bad input', () => {
  test('--expires 7 (no unit): exit 2 (USAGE)', async () => {
    const r = await scan([await repoCopy(), '--expires', '7']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid duration "7"/);
  });

  test('a directory that does not exist: exit 1 (IO_ERROR)', async () => {
    const r = await scan([join(tmp, 'nowhere')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[IO_ERROR]');
  });

  test('--trusted naming a directory without certificates: exit 2, nothing written', async () => {
    const dir = await repoCopy();
    const empty = join(tmp, `empty-trust-${++n}`);
    await mkdir(empty);
    const r = await scan([dir, '--trusted', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no certificate found/);
    await expect(stat(join(dir, 'Packages'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
