// Issue 13 §3: the Windows helpers of wapt-get/hooks, driven on Linux through a recorded
// command runner (the reg/sc/msiexec answers are fixtures captured from Windows 11).
// What is checked: the exact argv each helper runs, the exit-code semantics, and the
// parsing of the outputs; off Windows every helper refuses before running anything.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HookContext, RunResult } from '../../src/agent/hooks/api.js';
import { msiProperty, quoteWindowsArg, splitProgram, systemTool } from '../../src/agent/hooks/windows/cmdline.js';
import { createWindowsHelpers, type WinRunOptions } from '../../src/agent/hooks/windows/index.js';
import { msiOutcome } from '../../src/agent/hooks/windows/msi.js';
import { parseRegQuery, regAddArgs, regDeleteArgs, regQueryArgs } from '../../src/agent/hooks/windows/registry.js';
import { parseScState } from '../../src/agent/hooks/windows/service.js';
import { createHelpers } from '../../src/agent/hooks/helpers.js';
import { describeWindows } from './windows-only.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string): string => readFileSync(path.join(FIX, name), 'utf8');

interface Call {
  cmd: string;
  args: string[];
  opts: WinRunOptions | undefined;
}
type Answer = Partial<RunResult> | ((c: Call) => Partial<RunResult>);

/** A runner that answers from a script keyed by `cmd args…`, and records every call. */
function scripted(answers: Record<string, Answer | Answer[]>) {
  const calls: Call[] = [];
  const logs: string[] = [];
  const run = async (cmd: string, args: string[], opts?: WinRunOptions): Promise<RunResult> => {
    const call = { cmd, args, opts };
    calls.push(call);
    const key = [cmd, ...args].join(' ');
    const entry = answers[key];
    const a: Answer | undefined = Array.isArray(entry) ? (entry.length > 1 ? entry.shift() : entry[0]) : entry;
    if (a === undefined) throw new Error(`unexpected command: ${key}`);
    const r = typeof a === 'function' ? a(call) : a;
    return { code: r.code ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  return { calls, logs, run, log: (m: string) => logs.push(m) };
}

const ctx = (os = 'win32'): HookContext => ({
  package: 'tis-demo',
  version: '1.2.3-1',
  control: {},
  params: {},
  targetRoot: 'C:\\',
  packageDir: '/pkg/tis-demo',
  persistent: {},
  os,
  arch: 'x64',
});
/** Bare tool names in the script (the default maps them to %SystemRoot%\System32, checked below). */
const bare = (name: string): string => name;
const helpers = (s: ReturnType<typeof scripted>, os = 'win32') =>
  createWindowsHelpers(ctx(os), { run: s.run, log: s.log, pollMs: 1, tmpdir: 'C:\\Temp', tool: bare });

const UNINSTALL = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall';
const HKCU_UNINSTALL = 'HKCU\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall';
const softwareAnswers = (): Record<string, Answer> => ({
  [`reg.exe query ${UNINSTALL} /s /reg:64`]: { stdout: fixture('reg-query-uninstall-64.txt') },
  [`reg.exe query ${UNINSTALL} /s /reg:32`]: { stdout: fixture('reg-query-uninstall-32.txt') },
  [`reg.exe query ${HKCU_UNINSTALL} /s /reg:64`]: { code: 1, stderr: 'ERROR: The system was unable to find the specified registry key or value.' },
});

describe('installMsi / removeMsi (WAPT install_msi_if_needed, uninstall via msiexec /x)', () => {
  test('msiexec /i FILE /qn /norestart /L*v LOG with NAME="value" properties, passed verbatim', async () => {
    const s = scripted({});
    s.run = (async (cmd: string, args: string[], opts?: WinRunOptions) => {
      s.calls.push({ cmd, args, opts });
      return { code: 0, stdout: '', stderr: '' };
    }) as typeof s.run;
    const r = await helpers(s).installMsi('app.msi', { properties: { INSTALLDIR: 'C:\\Program Files\\App', ALLUSERS: '1' }, log: 'C:\\Logs\\app install.log' });
    expect(s.calls).toEqual([
      {
        cmd: 'msiexec.exe',
        args: [
          '/i',
          '/pkg/tis-demo/app.msi',
          '/qn',
          '/norestart',
          '/L*v',
          '"C:\\Logs\\app install.log"',
          'INSTALLDIR="C:\\Program Files\\App"',
          'ALLUSERS="1"',
        ],
        opts: { timeoutMs: 30 * 60_000, verbatim: true },
      },
    ]);
    expect(r).toEqual({ code: 0, rebootRequired: false, log: 'C:\\Logs\\app install.log' });
  });

  test.each([
    [0, false],
    [3010, true],
    [1641, true],
  ])('exit code %i is success, reboot required: %s (reported in the result and the log)', async (code, reboot) => {
    const s = scripted({});
    s.run = (async () => ({ code, stdout: '', stderr: '' })) as typeof s.run;
    const r = await helpers(s).installMsi('app.msi');
    expect(r.rebootRequired).toBe(reboot);
    expect(r.log).toBe('C:\\Temp\\tis-demo-install-msiexec.log');
    expect(s.logs.some((l) => /reboot is required/.test(l))).toBe(reboot);
  });

  test('other exit codes fail, naming the meaning and the log (1603, 1618)', async () => {
    for (const [code, text] of [
      [1603, /fatal error/],
      [1618, /another installation is already in progress/],
    ] as const) {
      const s = scripted({});
      s.run = (async () => ({ code, stdout: '', stderr: '' })) as typeof s.run;
      await expect(helpers(s).installMsi('app.msi', { log: 'C:\\l.log' })).rejects.toThrow(new RegExp(`exit code ${code}: ${text.source}.*log: C:\\\\l\\.log`));
    }
  });

  test('removeMsi: /x {CODE} quiet with a log; 1605 (not installed) is fine; a non-GUID is refused before running', async () => {
    const code = '{23170F69-40C1-2702-2301-000001000000}';
    const s = scripted({ [`msiexec.exe /x ${code} /qn /norestart /L*v C:\\Temp\\tis-demo-remove-msiexec.log`]: { code: 1605 } });
    expect((await helpers(s).removeMsi(code.toLowerCase())).code).toBe(1605);
    await expect(helpers(s).removeMsi('Firefox')).rejects.toThrow(/not a ProductCode/);
    expect(s.calls).toHaveLength(1);
  });

  test('msiexec exit codes table', () => {
    expect(msiOutcome(1605)).toMatchObject({ ok: false });
    expect(msiOutcome(1605, { removing: true })).toEqual({ ok: true, rebootRequired: false });
    expect(msiOutcome(42).message).toMatch(/see the msiexec log/);
  });

  test('properties: lower-case names and line breaks refused, inner quotes doubled', () => {
    expect(msiProperty('TARGETDIR', 'say "hi"')).toBe('TARGETDIR="say ""hi"""');
    expect(() => msiProperty('installdir', 'x')).toThrow(/UPPERCASE/);
    expect(() => msiProperty('A', 'x\ny')).toThrow(/line break/);
  });
});

describe('installExe: arguments are never split on spaces', () => {
  test('each argument reaches the installer as one argv element', async () => {
    const s = scripted({});
    s.run = (async (cmd: string, args: string[], opts?: WinRunOptions) => {
      s.calls.push({ cmd, args, opts });
      return { code: 0, stdout: '', stderr: '' };
    }) as typeof s.run;
    await helpers(s).installExe('setup.exe', ['/VERYSILENT', '/DIR=C:\\Program Files\\My App', '/LOG=C:\\a b.log']);
    expect(s.calls[0]).toEqual({
      cmd: '/pkg/tis-demo/setup.exe',
      args: ['/VERYSILENT', '/DIR=C:\\Program Files\\My App', '/LOG=C:\\a b.log'],
      opts: { timeoutMs: 1800000 },
    });
  });

  test('a string instead of an array is refused; an exit code outside accept fails', async () => {
    const s = scripted({ '/pkg/tis-demo/setup.exe /S': { code: 2 } });
    await expect(helpers(s).installExe('setup.exe', '/S /D=x' as unknown as string[])).rejects.toThrow(/array of strings/);
    await expect(helpers(s).installExe('setup.exe', ['/S'])).rejects.toThrow(/exited with code 2/);
    const ok = scripted({ '/pkg/tis-demo/setup.exe /S': { code: 3010 } });
    expect((await helpers(ok).installExe('setup.exe', ['/S'], { accept: [0, 3010] })).code).toBe(3010);
  });

  test('the installer must be inside the package', async () => {
    await expect(helpers(scripted({})).installExe('../../Windows/evil.exe', [])).rejects.toThrow(/escapes/);
  });

  test('Windows quoting rules (CommandLineToArgvW)', () => {
    expect(quoteWindowsArg('/qn')).toBe('/qn');
    expect(quoteWindowsArg('C:\\Program Files\\')).toBe('"C:\\Program Files\\\\"');
    expect(quoteWindowsArg('a "b"')).toBe('"a \\"b\\""');
    expect(quoteWindowsArg('')).toBe('""');
  });
});

describe('installedSoftware / uninstallKey (WAPT installed_softwares / uninstall_cmd)', () => {
  test('reads HKLM in both registry views and HKCU; keys without DisplayName are skipped', async () => {
    const s = scripted(softwareAnswers());
    const list = await helpers(s).installedSoftware();
    expect(s.calls.map((c) => c.args.join(' '))).toEqual([
      `query ${UNINSTALL} /s /reg:64`,
      `query ${UNINSTALL} /s /reg:32`,
      `query ${HKCU_UNINSTALL} /s /reg:64`,
    ]);
    expect(list.map((x) => [x.key, x.name, x.version, x.view])).toEqual([
      ['7-Zip', '7-Zip 23.01 (x64)', '23.01', 64],
      ['Mozilla Firefox 120.0 (x64 fr)', 'Mozilla Firefox (x64 fr)', '120.0', 64],
      ['{23170F69-40C1-2702-2301-000001000000}', 'Tiny Demo Tool', '1.2.3', 64],
      ['Notepad++', 'Notepad++ (32-bit x86)', '8.6', 32],
      ['InnoApp_is1', 'Inno App 2.0', '2.0', 32],
    ]);
    const msi = list.find((x) => x.msi)!;
    expect(msi).toMatchObject({ publisher: 'Example Corp', installDate: '20261130', systemComponent: false, hive: 'HKLM' });
  });

  test('uninstallKey by ProductCode runs msiexec /x, by name a QuietUninstallString verbatim', async () => {
    const s = scripted({
      ...softwareAnswers(),
      'msiexec.exe /x {23170F69-40C1-2702-2301-000001000000} /qn /norestart /L*v C:\\Temp\\tis-demo-remove-msiexec.log': { code: 0 },
      'C:\\Program Files\\7-Zip\\Uninstall.exe /S': { code: 0 },
    });
    expect(await helpers(s).uninstallKey('{23170f69-40c1-2702-2301-000001000000}')).toBe(true);
    expect(await helpers(s).uninstallKey('7-Zip 23.01 (x64)')).toBe(true);
    const last = s.calls.at(-1)!;
    expect(last).toEqual({ cmd: 'C:\\Program Files\\7-Zip\\Uninstall.exe', args: ['/S'], opts: { timeoutMs: 1800000, verbatim: true } });
  });

  test('Inno Setup uninstaller gets /VERYSILENT /SUPPRESSMSGBOXES /NORESTART; an unknown one needs silentArgs', async () => {
    const s = scripted({ ...softwareAnswers(), 'C:\\Program Files (x86)\\Inno App\\unins000.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART': { code: 0 } });
    expect(await helpers(s).uninstallKey('InnoApp_is1')).toBe(true);
    await expect(helpers(scripted(softwareAnswers())).uninstallKey('Mozilla Firefox (x64 fr)')).rejects.toThrow(/not a known uninstaller; pass silentArgs/);
    const f = scripted({ ...softwareAnswers(), 'C:\\Program Files\\Mozilla Firefox\\uninstall\\helper.exe /S': { code: 0 } });
    expect(await helpers(f).uninstallKey('Mozilla Firefox (x64 fr)', { silentArgs: ['/S'] })).toBe(true);
  });

  test('nothing matching: false, nothing run', async () => {
    const s = scripted(softwareAnswers());
    expect(await helpers(s).uninstallKey('{00000000-0000-0000-0000-000000000000}')).toBe(false);
    expect(s.calls.every((c) => c.cmd === 'reg.exe')).toBe(true);
  });

  test('splitProgram keeps the registered tail verbatim', () => {
    expect(splitProgram('"C:\\P F\\u.exe" /x "a b"')).toEqual({ program: 'C:\\P F\\u.exe', rest: '/x "a b"' });
    expect(splitProgram('C:\\Program Files\\App\\uninst.exe /S')).toEqual({ program: 'C:\\Program Files\\App\\uninst.exe', rest: '/S' });
  });
});

describe('registryGet / registrySet / registryDelete (WAPT registry_readstring / registry_set / registry_delete)', () => {
  test('parses every value type of `reg query`, default value as ""', () => {
    const [k] = parseRegQuery(fixture('reg-query-value.txt'));
    expect(k!.key).toBe('HKEY_LOCAL_MACHINE\\SOFTWARE\\Example\\Tool');
    const v = Object.fromEntries(k!.values.map((x) => [x.name, x.data]));
    expect(v['']).toBe('base value');
    expect(v.Path).toBe('%ProgramFiles%\\Example');
    expect(v.Servers).toEqual(['a.example.org', 'b.example.org']);
    expect(v.Level).toBe(42);
    expect(v.Big).toBe(0x20000000000001n);
    expect(v.Blob).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    expect(v.Empty).toBe('');
  });

  test('registryGet: the value, or undefined when reg says not found (exit 1)', async () => {
    const s = scripted({
      'reg.exe query HKLM\\SOFTWARE\\Example\\Tool /v Level /reg:32': { stdout: fixture('reg-query-value.txt') },
      'reg.exe query HKLM\\SOFTWARE\\Nope /v X': { code: 1 },
    });
    expect(await helpers(s).registryGet('HKEY_LOCAL_MACHINE\\SOFTWARE\\Example\\Tool', 'Level', { view: 32 })).toEqual({
      name: 'Level',
      type: 'REG_DWORD',
      data: 42,
    });
    expect(await helpers(s).registryGet('HKLM/SOFTWARE/Nope', 'X')).toBeUndefined();
  });

  test('registrySet / registryDelete argv; types inferred; missing on delete is fine', async () => {
    const s = scripted({
      'reg.exe add HKLM\\SOFTWARE\\Example /v Level /t REG_DWORD /d 42 /f': {},
      'reg.exe add HKLM\\SOFTWARE\\Example /v Servers /t REG_MULTI_SZ /d a\\0b /f /reg:64': {},
      'reg.exe add HKCU\\SOFTWARE\\Example /ve /t REG_SZ /d C:\\Program Files\\x /f': {},
      'reg.exe delete HKLM\\SOFTWARE\\Example /v Level /f': { code: 1 },
      'reg.exe delete HKLM\\SOFTWARE\\Example /f': {},
    });
    const h = helpers(s);
    await h.registrySet('HKLM\\SOFTWARE\\Example', 'Level', 42);
    await h.registrySet('HKLM\\SOFTWARE\\Example', 'Servers', ['a', 'b'], { view: 64 });
    await h.registrySet('HKEY_CURRENT_USER\\SOFTWARE\\Example\\', '', 'C:\\Program Files\\x');
    await h.registryDelete('HKLM\\SOFTWARE\\Example', 'Level');
    await h.registryDelete('HKLM\\SOFTWARE\\Example');
    expect(s.calls).toHaveLength(5);
  });

  test('argument builders refuse keys outside the hives and out-of-range numbers', () => {
    expect(() => regQueryArgs('SOFTWARE\\X')).toThrow(/must start with HKLM/);
    expect(() => regAddArgs('HKLM\\X', 'n', -1, 'REG_DWORD')).toThrow(/out of range/);
    expect(regDeleteArgs('HKLM\\X', '', 32)).toEqual(['delete', 'HKLM\\X', '/ve', '/f', '/reg:32']);
  });
});

describe('service(name) (WAPT service_start / service_stop / service_is_running)', () => {
  test('parses sc query states (numeric code) and NOT_FOUND on 1060', async () => {
    expect(parseScState(fixture('sc-query-running.txt'))).toBe('RUNNING');
    expect(parseScState(fixture('sc-query-stopped.txt'))).toBe('STOPPED');
    const s = scripted({ 'sc.exe query Nope': { code: 1060, stdout: fixture('sc-query-missing.txt') } });
    expect(await helpers(s).service('Nope').status()).toBe('NOT_FOUND');
  });

  test('start waits through START_PENDING until RUNNING; already running (1056) is fine', async () => {
    const s = scripted({
      'sc.exe start Spooler': { code: 0 },
      'sc.exe query Spooler': [{ stdout: fixture('sc-query-start-pending.txt') }, { stdout: fixture('sc-query-running.txt') }],
    });
    await helpers(s).service('Spooler').start();
    expect(s.calls.map((c) => c.args.join(' '))).toEqual(['start Spooler', 'query Spooler', 'query Spooler']);
    const again = scripted({ 'sc.exe start Spooler': { code: 1056 }, 'sc.exe query Spooler': { stdout: fixture('sc-query-running.txt') } });
    await helpers(again).service('Spooler').start();
  });

  test('stop: not started (1062) is fine; a stuck service times out with its state', async () => {
    const s = scripted({ 'sc.exe stop Spooler': { code: 1062 }, 'sc.exe query Spooler': { stdout: fixture('sc-query-stopped.txt') } });
    await helpers(s).service('Spooler').stop();
    const stuck = scripted({ 'sc.exe stop Spooler': { code: 0 }, 'sc.exe query Spooler': { stdout: fixture('sc-query-running.txt') } });
    await expect(helpers(stuck).service('Spooler').stop({ timeoutMs: 20 })).rejects.toThrow(/is RUNNING, not STOPPED/);
    expect(() => helpers(s).service('a/b')).not.toThrow();
    await expect(helpers(s).service('a/b').status()).rejects.toThrow(/invalid service name/);
  });
});

describe('off Windows', () => {
  test('every Windows helper refuses with a clear message before running anything', async () => {
    const s = scripted({});
    const h = helpers(s, 'linux');
    const attempts: Promise<unknown>[] = [
      h.installMsi('a.msi'),
      h.removeMsi('{23170F69-40C1-2702-2301-000001000000}'),
      h.installExe('a.exe', []),
      h.installedSoftware(),
      h.uninstallKey('x'),
      h.registryGet('HKLM\\X', 'y'),
      h.registrySet('HKLM\\X', 'y', 'z'),
      h.registryDelete('HKLM\\X'),
      h.service('x').status(),
    ];
    for (const p of attempts) await expect(p).rejects.toThrow(/needs Windows \(this system is linux\); nothing was run/);
    expect(s.calls).toEqual([]);
  });

  test('the helpers object a hook receives carries them (typed in wapt-get/hooks)', () => {
    const h = createHelpers(ctx('linux'));
    for (const k of [
      'installMsi',
      'removeMsi',
      'installExe',
      'installedSoftware',
      'uninstallKey',
      'registryGet',
      'registrySet',
      'registryDelete',
      'service',
    ] as const) {
      expect(typeof h[k]).toBe('function');
    }
  });
});

describeWindows('Windows helpers against the real reg.exe and sc.exe', () => {
  const real = () => createHelpers({ ...ctx('win32'), packageDir: process.cwd(), targetRoot: 'C:\\' });
  test('registrySet / registryGet / registryDelete round trip under HKCU', async () => {
    const h = real();
    const key = `HKCU\\Software\\wapt-get-test-${process.pid}`;
    await h.registrySet(key, 'Level', 42);
    await h.registrySet(key, 'Path', 'C:\\Program Files\\x');
    expect(await h.registryGet(key, 'Level')).toEqual({ name: 'Level', type: 'REG_DWORD', data: 42 });
    expect((await h.registryGet(key, 'Path'))?.data).toBe('C:\\Program Files\\x');
    await h.registryDelete(key);
    expect(await h.registryGet(key, 'Level')).toBeUndefined();
  });

  test('installedSoftware lists entries; the event log service runs', async () => {
    const h = real();
    expect((await h.installedSoftware()).length).toBeGreaterThan(0);
    expect(await h.service('EventLog').status()).toBe('RUNNING');
    expect(await h.service(`no-such-service-${process.pid}`).status()).toBe('NOT_FOUND');
  });
});

describe('system tools by absolute path', () => {
  test('reg.exe, sc.exe, msiexec.exe, taskkill, whoami, icacls and powershell run from %SystemRoot%, never from PATH', async () => {
    expect(systemTool('reg.exe', { SystemRoot: 'D:\\WINDOWS' })).toBe('D:\\WINDOWS\\System32\\reg.exe');
    expect(systemTool('powershell.exe', {})).toBe('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    expect(systemTool('taskkill', { windir: 'C:\\Win\\' })).toBe('C:\\Win\\System32\\taskkill.exe');
    expect(systemTool('setup.exe', {})).toBe('setup.exe');
    const s = scripted({ [`${systemTool('sc.exe')} query Spooler`]: { stdout: fixture('sc-query-running.txt') } });
    expect(await createWindowsHelpers(ctx('win32'), { run: s.run, log: s.log }).service('Spooler').status()).toBe('RUNNING');
  });
});

describe('user mode', () => {
  test('msiexec, uninstallers and service control refuse a user-mode target root (they act on the whole machine)', async () => {
    const s = scripted({});
    const h = createWindowsHelpers({ ...ctx('win32'), targetRoot: 'C:\\Users\\alice\\wapt-root' }, { run: s.run, log: s.log, tool: bare });
    await expect(h.installMsi('a.msi')).rejects.toThrow(/installMsi installs system-wide and cannot honour targetRoot .* \(user mode\)/);
    await expect(h.removeMsi('{23170F69-40C1-2702-2301-000001000000}')).rejects.toThrow(/user mode/);
    await expect(h.uninstallKey('x')).rejects.toThrow(/user mode/);
    await expect(h.service('x').stop()).rejects.toThrow(/user mode/);
    expect(s.calls).toEqual([]);
  });
});
