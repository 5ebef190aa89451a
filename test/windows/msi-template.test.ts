// Issue 13 §4: templates from an installer. A REAL MSI is built here with msitools' wixl
// from a tiny .wxs; the MSI reader decodes its Property table through the string pool;
// `make-template msi FILE.msi` writes a package that builds, verifies and goes as far as
// its install hook can on Linux. `make-template exe` detects Inno Setup / NSIS /
// InstallShield markers. build-package refuses msi/exe packages missing their installer
// or ProductCode (INSTALLER_MISSING).
import { spawnSync } from 'node:child_process';
import CFB from 'cfb';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeStreamName, encodeStreamName, parseStringPool, readMsi, readStringTable } from '../../src/package/msi/index.js';
import { detectExeInstaller } from '../../src/package/msi/exe.js';
import { parseControl } from '../../src/package/control.js';
import { buildPackage } from '../../src/package/build.js';
import { makeTemplate } from '../../src/package/templates.js';
import { isWaptError, WaptError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { getTestPki, signerOf, type TestPki } from '../helpers/pki.js';
import { describeUnlessWindows } from './windows-only.js';

const PRODUCT_CODE = '{8E5F3C1A-2B4D-4E6F-9A1B-3C5D7E9F1A2B}';
const UPGRADE_CODE = '{1F2E3D4C-5B6A-4978-8695-A4B3C2D1E0F9}';

/** A minimal per-machine product with one file, as a packager's WiX source would be. */
function wxs(version: string, name: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="${PRODUCT_CODE}" Name="${name}" Language="1033" Version="${version}" Manufacturer="Example Corp" UpgradeCode="${UPGRADE_CODE}">
    <Package InstallerVersion="200" Compressed="yes" InstallScope="perMachine"/>
    <Media Id="1" Cabinet="app.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFilesFolder">
        <Directory Id="INSTALLDIR" Name="TinyDemo">
          <Component Id="Main" Guid="{2A3B4C5D-6E7F-4081-9223-B4C5D6E7F809}">
            <File Id="ReadMe" Source="readme.txt"/>
          </Component>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Complete" Level="1"><ComponentRef Id="Main"/></Feature>
  </Product>
</Wix>
`;
}

let tmp: string;
let pki: TestPki;
beforeAll(async () => {
  pki = await getTestPki();
});
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'msi-tpl-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Builds a real .msi with wixl; fails loudly when msitools' wixl is not installed (.ci/run installs it). */
async function buildMsi(file: string, version = '1.2.3', name = 'Tiny Démo Tool'): Promise<string> {
  const src = path.join(tmp, 'product.wxs');
  await writeFile(src, wxs(version, name));
  await writeFile(path.join(tmp, 'readme.txt'), 'hello from the MSI\n');
  const r = spawnSync('wixl', ['-o', file, src], { cwd: tmp, encoding: 'utf8' });
  if (r.error) throw new Error(`wixl (Debian package wixl, from msitools) is needed to build the test MSI: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`wixl failed: ${r.stderr}`);
  return file;
}

describe('MSI reader (cfb + our string pool / Property table decoding)', () => {
  test('reads ProductName, ProductVersion, ProductCode, Manufacturer from a real wixl-built MSI', async () => {
    const msi = readMsi(await readFile(await buildMsi(path.join(tmp, 'tiny.msi'))));
    expect(msi).toMatchObject({
      productName: 'Tiny Démo Tool',
      productVersion: '1.2.3',
      productCode: PRODUCT_CODE,
      manufacturer: 'Example Corp',
      upgradeCode: UPGRADE_CODE,
    });
    expect(msi.properties.ALLUSERS).toBe('1');
    // Cross-check against msitools' own reader of the same table.
    const exported = spawnSync('msiinfo', ['export', path.join(tmp, 'tiny.msi'), 'Property'], { encoding: 'utf8' });
    expect(exported.status).toBe(0);
    for (const line of exported.stdout.split(/\r?\n/).slice(3).filter(Boolean)) {
      const [k, v] = line.split('\t');
      expect(msi.properties[k!]).toBe(v);
    }
  });

  /** A string pool as Windows Installer writes it: u32 codepage (bit 31: 3-byte ids), then (u16 len, u16 refs) per id. */
  function pool(codepage: number, long: boolean, entries: [number, number][]): Buffer {
    const b = Buffer.alloc(4 + entries.length * 4);
    b.writeUInt32LE((codepage | (long ? 0x80000000 : 0)) >>> 0, 0);
    entries.forEach(([len, refs], i) => {
      b.writeUInt16LE(len, 4 + i * 4);
      b.writeUInt16LE(refs, 6 + i * 4);
    });
    return b;
  }

  test('string pool: codepages 1251 and 65001, unused ids, strings over 64 KiB, 3-byte ids in tables', () => {
    const cyr = Buffer.from([0xd2, 0xe5, 0xf1, 0xf2]); // "Тест" in windows-1251
    const p1251 = parseStringPool(
      pool(1251, false, [
        [4, 1],
        [0, 0],
        [2, 1],
      ]),
      Buffer.concat([cyr, Buffer.from('OK')]),
    );
    expect(p1251).toEqual({ codepage: 1251, idSize: 2, strings: ['', 'Тест', '', 'OK'] });

    const big = 'x'.repeat(70_000);
    const jp = Buffer.from('日本語', 'utf8');
    // a zero length with refs 1, then the entry holding the low word (len) and high word (refs) of 70000
    const pUtf8 = parseStringPool(
      pool(65001, true, [
        [jp.length, 1],
        [0, 1],
        [70_000 & 0xffff, 70_000 >>> 16],
      ]),
      Buffer.concat([jp, Buffer.from(big)]),
    );
    expect(pUtf8.idSize).toBe(3);
    expect(pUtf8.strings[1]).toBe('日本語');
    expect(pUtf8.strings[2]).toBe(big);

    // Property table, column-major with 3-byte ids: keys [1, 2] then values [2, 1].
    const table = Buffer.from([1, 0, 0, 2, 0, 0, 2, 0, 0, 1, 0, 0]);
    expect(readStringTable(table, pUtf8, 2)).toEqual([
      ['日本語', big],
      [big, '日本語'],
    ]);
    expect(() => readStringTable(Buffer.from([9, 0, 9, 0]), p1251, 2)).toThrow(/outside the string pool/);
    expect(() => parseStringPool(pool(1252, false, [[10, 1]]), Buffer.from('short'))).toThrow(/shorter than the pool says/);
  });

  test('stream names: MSI base64 into the CJK range, with the 0x4840 table mark', () => {
    const stored = encodeStreamName('_StringPool', true);
    expect(stored.charCodeAt(0)).toBe(0x4840);
    expect([...stored].every((c) => c.charCodeAt(0) >= 0x3800 && c.charCodeAt(0) <= 0x4840)).toBe(true);
    expect(decodeStreamName(stored)).toBe('!_StringPool');
    expect(decodeStreamName(encodeStreamName('Property', true))).toBe('!Property');
    expect(decodeStreamName('\u0005SummaryInformation')).toBe('\u0005SummaryInformation');
  });

  test('MSI_INVALID for a file that is not a compound file, and for a compound file that is not an MSI', async () => {
    expect(() => readMsi(Buffer.from('PK\x03\x04 not an msi at all'), 'x.msi')).toThrow(WaptError);
    let err: unknown;
    try {
      readMsi(Buffer.from('PK\x03\x04 not an msi at all'), 'x.msi');
    } catch (e) {
      err = e;
    }
    expect(isWaptError(err, 'MSI_INVALID')).toBe(true);
    expect((err as WaptError).exitCode).toBe(2);
    // A real compound file (a Word-like document), with no Windows Installer streams.
    const doc = CFB.utils.cfb_new();
    CFB.utils.cfb_add(doc, '/WordDocument', Buffer.from('not an installer'));
    const bytes = Buffer.from(CFB.write(doc, { type: 'buffer' }) as Uint8Array);
    expect(() => readMsi(bytes, 'doc.msi')).toThrow(/doc\.msi has no !_StringPool stream: not a Windows Installer database/);
  });
});

async function writeKeyFiles(): Promise<{ key: string; cert: string }> {
  return { key: pki.codesigner.keyPath, cert: pki.codesigner.certPath };
}

/** make-template msi FILE.msi then build-package with the trusted code-signer (real binary); `edit` may change the source first. */
async function buildDerived(edit?: (dir: string) => Promise<void>): Promise<string> {
  const msiPath = await buildMsi(path.join(tmp, 'tiny.msi'));
  const made = await runCli(['--json', 'make-template', 'msi', msiPath, '--dir', 'pkg'], { cwd: tmp });
  expect(made.code).toBe(0);
  await edit?.(path.join(tmp, 'pkg'));
  const { key, cert } = await writeKeyFiles();
  const out = path.join(tmp, 'out');
  const built = await runCli(['--json', 'build-package', path.join(tmp, 'pkg'), '-o', out, '-k', key, '--cert', cert], {
    cwd: tmp,
    env: { WAPT_KEY_PASSWORD: '' },
  });
  expect(built.stderr).toBe('');
  expect(built.code).toBe(0);
  const wapt = path.join(out, 'tis-tiny-demo-tool_1.2.3-1.wapt');
  expect(existsSync(wapt)).toBe(true);
  return wapt;
}

async function installAsUser(wapt: string) {
  const ini = path.join(tmp, 'wapt-get.ini');
  const lines = [
    `dbdir = ${tmp}/db`,
    `cachedir = ${tmp}/cache`,
    `trusted_certs_dir = ${pki.trustedDir}`,
    `user_mode_root = ${tmp}/root`,
    'install_timeout = 60',
  ];
  await writeFile(ini, `[global]\n${lines.join('\n')}\n`);
  return runCli(['-c', ini, 'install', wapt], { cwd: tmp });
}

describeUnlessWindows('installing the MSI-derived package off Windows (as far as it can go)', () => {
  test('as built (target_os windows): the resolver refuses it with the reason, exit 7, nothing installed', async () => {
    const r = await installAsUser(await buildDerived());
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/target_os windows does not include this host \(linux\)/);
  });

  test('without target_os: verified, extracted, its install hook runs and dispatches off Windows with a clear message (exit 6)', async () => {
    const wapt = await buildDerived(async (dir) => {
      const control = await readFile(path.join(dir, 'WAPT/control'), 'utf8');
      await writeFile(path.join(dir, 'WAPT/control'), control.replace(/\ntarget_os *: windows/, ''));
    });
    const r = await installAsUser(wapt);
    expect(r.stderr).toMatch(/tis-tiny-demo-tool needs Windows \(this system is linux\): tiny\.msi was not run and nothing was changed/);
    expect(r.stderr).toMatch(/ERR_HOOK_FAILED/);
    expect(r.code).toBe(6);
  });
});

describe('make-template msi FILE.msi → build → verify (real binary)', () => {
  test('writes control + setup.mjs with install-if-needed and uninstall from the MSI, and copies the MSI', async () => {
    const msiPath = await buildMsi(path.join(tmp, 'TinyDemo-1.2.3.msi'));
    const r = await runCli(['--json', 'make-template', 'msi', msiPath, '--maintainer', 'Ada'], { cwd: tmp });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({ kind: 'msi', package: 'tis-tiny-demo-tool', dir: path.join(tmp, 'tis-tiny-demo-tool-wapt') });
    expect(res.files).toEqual(['README.txt', 'TinyDemo-1.2.3.msi', 'WAPT/control', 'setup.mjs']);
    const dir = res.dir as string;
    const control = parseControl(await readFile(path.join(dir, 'WAPT/control'), 'utf8'));
    expect(control.get('package')).toBe('tis-tiny-demo-tool');
    expect(control.get('version')).toBe('1.2.3-1');
    expect(control.get('name')).toBe('Tiny Démo Tool');
    expect(control.get('description')).toBe('Tiny Démo Tool (Example Corp), MSI installer');
    expect(control.get('target_os')).toBe('windows');
    const setup = await readFile(path.join(dir, 'setup.mjs'), 'utf8');
    expect(setup).toContain(`const MSI = "TinyDemo-1.2.3.msi";`);
    expect(setup).toContain(`const PRODUCT_CODE = "${PRODUCT_CODE}";`);
    expect(setup).toContain(`const PRODUCT_VERSION = "1.2.3";`);
    expect(setup).toMatch(
      /export async function install\(h\) \{\s*requireWindows\(h\);\s*const have = await installedVersion\(h\);\s*if \(have === PRODUCT_VERSION\)[\s\S]*msiexec skipped[\s\S]*installMsi/,
    );
    expect(setup).toMatch(/async function installedVersion[\s\S]*installedSoftware\(\)\)\.find\(\(s\) => s\.key\.toUpperCase\(\) === code\)/);
    expect(setup).toMatch(/export async function uninstall[\s\S]*removeMsi/);
    expect(spawnSync(process.execPath, ['--check', path.join(dir, 'setup.mjs')]).status).toBe(0);
    expect(await readFile(path.join(dir, 'TinyDemo-1.2.3.msi'))).toEqual(await readFile(msiPath));
  });

  test('the MSI-derived package builds and verifies (verify exit 0 against the trusted CA)', async () => {
    const wapt = await buildDerived();
    const verified = await runCli(['verify', '--trusted', pki.trustedDir, wapt], { cwd: tmp });
    expect(verified.stderr).not.toMatch(/error/);
    expect(verified.code).toBe(0);
  });

  test('X1: the hook itself dispatches off Windows before any msiexec/registry call, with a clear message', async () => {
    const msiPath = await buildMsi(path.join(tmp, 'tiny.msi'));
    expect((await runCli(['make-template', 'msi', msiPath, '--dir', 'pkg'], { cwd: tmp })).code).toBe(0);
    const { runHook } = await import('../../src/agent/hooks/runner.js');
    const ctx = {
      package: 'tis-tiny-demo-tool',
      version: '1.2.3-1',
      control: {},
      params: {},
      targetRoot: tmp,
      packageDir: path.join(tmp, 'pkg'),
      persistent: {},
      os: 'linux',
      arch: 'x64',
    };
    for (const hook of ['install', 'uninstall', 'audit'] as const) {
      await expect(runHook({ setupPath: path.join(tmp, 'pkg', 'setup.mjs'), hook, ctx, timeoutMs: 30_000 })).rejects.toThrow(
        /tis-tiny-demo-tool needs Windows \(this system is linux\): tiny\.msi was not run and nothing was changed/,
      );
    }
  });
});

describe('build-package refuses msi/exe packages without their installer or ProductCode (INSTALLER_MISSING)', () => {
  async function buildErr(dir: string): Promise<WaptError> {
    try {
      await buildPackage(dir, { signer: signerOf(pki.codesigner), outDir: path.join(tmp, 'out'), date: new Date(), reproducible: false });
    } catch (e) {
      if (e instanceof WaptError) return e;
      throw e;
    }
    throw new Error('expected build-package to refuse');
  }

  test('the blank msi template (no .msi, empty PRODUCT_CODE) no longer builds with rc 0', async () => {
    const dir = path.join(tmp, 'blank');
    await makeTemplate('msi', 'tis-blank', dir);
    const e = await buildErr(dir);
    expect(e.code).toBe('INSTALLER_MISSING');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('does not contain its installer tis-blank.msi');
    const cli = await runCli(['build-package', dir, '-o', path.join(tmp, 'out'), '-k', pki.codesigner.keyPath, '--cert', pki.codesigner.certPath], {
      env: { WAPT_KEY_PASSWORD: '' },
    });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/wapt-get: error \[INSTALLER_MISSING\]/);
  });

  test('an msi package whose .msi is there but PRODUCT_CODE is empty is refused', async () => {
    const dir = path.join(tmp, 'nocode');
    await makeTemplate('msi', 'tis-nocode', dir);
    await writeFile(path.join(dir, 'tis-nocode.msi'), await readFile(await buildMsi(path.join(tmp, 'x.msi'))));
    const e = await buildErr(dir);
    expect(e.code).toBe('INSTALLER_MISSING');
    expect(e.message).toMatch(/no PRODUCT_CODE/);
  });

  test('an MSI-derived package whose .msi was deleted is refused', async () => {
    const msiPath = await buildMsi(path.join(tmp, 'tiny.msi'));
    expect((await runCli(['make-template', 'msi', msiPath, '--dir', 'pkg'], { cwd: tmp })).code).toBe(0);
    await unlink(path.join(tmp, 'pkg', 'tiny.msi'));
    expect((await buildErr(path.join(tmp, 'pkg'))).code).toBe('INSTALLER_MISSING');
  });

  test('an exe package without its installer is refused; with it, it builds', async () => {
    const dir = path.join(tmp, 'exe');
    await makeTemplate('exe', 'tis-exe', dir);
    expect((await buildErr(dir)).code).toBe('INSTALLER_MISSING');
    await writeFile(path.join(dir, 'tis-exe-setup.exe'), Buffer.from('MZ fake'));
    await buildPackage(dir, { signer: signerOf(pki.codesigner), outDir: path.join(tmp, 'out'), date: new Date(), reproducible: false });
  });

  test('packages not made from the msi/exe templates are not affected', async () => {
    const dir = path.join(tmp, 'dir');
    await makeTemplate('dir', 'tis-files', dir);
    await buildPackage(dir, { signer: signerOf(pki.codesigner), outDir: path.join(tmp, 'out'), date: new Date(), reproducible: false });
  });
});

/** A small synthetic PE: the MZ stub plus the marker a framework leaves (ASCII or UTF-16LE). */
function fakeExe(marker: string, utf16 = false): Buffer {
  return Buffer.concat([Buffer.from('MZ\x90\x00'), Buffer.alloc(200), Buffer.from(marker, utf16 ? 'utf16le' : 'latin1'), Buffer.alloc(100)]);
}

describe('make-template exe FILE.exe: Inno Setup / NSIS / InstallShield markers and their silent switches', () => {
  test.each([
    ['Inno Setup', fakeExe('Inno Setup Setup Data (6.2.0)'), 'inno', ['/VERYSILENT', '/SUPPRESSMSGBOXES', '/NORESTART', '/SP-']],
    [
      'Inno Setup (version resource, UTF-16)',
      fakeExe('This installation was built with Inno Setup.', true),
      'inno',
      ['/VERYSILENT', '/SUPPRESSMSGBOXES', '/NORESTART', '/SP-'],
    ],
    ['NSIS', fakeExe('\xef\xbe\xad\xdeNullsoftInst'), 'nsis', ['/S']],
    ['NSIS (manifest)', fakeExe('<assemblyIdentity name="Nullsoft.NSIS.exehead"/>'), 'nsis', ['/S']],
    ['InstallShield', fakeExe('InstallShield', true), 'installshield', ['/s', '/v/qn']],
    ['unknown', fakeExe('just a program'), 'unknown', []],
  ] as const)('%s', async (_t, bytes, kind, args) => {
    expect(detectExeInstaller(bytes)).toMatchObject({ kind, silentArgs: args });
    const file = path.join(tmp, 'App-Setup.exe');
    await writeFile(file, bytes);
    const r = await runCli(['--json', 'make-template', 'exe', file, '--dir', 'pkg'], { cwd: tmp });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ package: 'tis-app', installer: { file: 'App-Setup.exe', exe: { kind } } });
    const setup = await readFile(path.join(tmp, 'pkg', 'setup.mjs'), 'utf8');
    expect(setup).toContain(`const SILENT = ${JSON.stringify(args)};`);
    expect(setup).toContain('const EXE = "App-Setup.exe";');
    expect(spawnSync(process.execPath, ['--check', path.join(tmp, 'pkg', 'setup.mjs')]).status).toBe(0);
    expect(existsSync(path.join(tmp, 'pkg', 'App-Setup.exe'))).toBe(true);
  });

  test('a file without the MZ header is refused (USAGE), and nothing is created', async () => {
    const file = path.join(tmp, 'notes.exe');
    await writeFile(file, 'plain text');
    const r = await runCli(['make-template', 'exe', file, '--dir', 'pkg'], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a Windows executable/);
    expect(existsSync(path.join(tmp, 'pkg'))).toBe(false);
  });
});
