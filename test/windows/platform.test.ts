// Issue 13 §1: one isAdmin answer (elevated token or SYSTEM on Windows, euid 0 elsewhere),
// Windows default paths under %ProgramData%\wapt-get, icacls arguments for private dirs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/agent/config.js';
import { installTarget } from '../../src/agent/install/rights.js';
import { decideAdmin, defaultPaths, isAdmin, privateAclArgs, protectStateDirs, restrictToAdmins, sidsIn, type ProbeResult } from '../../src/agent/platform.js';
import { isWaptError, type WaptError } from '../../src/errors.js';
import { describeWindows } from './windows-only.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string): string => readFileSync(path.join(FIX, name), 'utf8');

/** A command runner answering from recorded outputs; records what was asked. */
function recorded(answers: Record<string, ProbeResult>) {
  const calls: string[] = [];
  const run = (cmd: string, args: string[]): ProbeResult => {
    const key = [cmd, ...args].join(' ');
    calls.push(key);
    return answers[key] ?? { code: null, stdout: '' };
  };
  return { run, calls };
}
const USER = 'whoami /user /fo csv /nh';
const GROUPS = 'whoami /groups /fo csv /nh';

describe('admin detection on Windows (platform and runner injected)', () => {
  test('an elevated prompt (high integrity S-1-16-12288) is admin', () => {
    const r = recorded({ [USER]: { code: 0, stdout: fixture('whoami-user-alice.txt') }, [GROUPS]: { code: 0, stdout: fixture('whoami-groups-elevated.txt') } });
    expect(decideAdmin({ platform: 'win32', euid: undefined, run: r.run })).toBe(true);
  });

  test('a member of Administrators in a non-elevated prompt (UAC filtered, medium integrity) is NOT admin', () => {
    const r = recorded({ [USER]: { code: 0, stdout: fixture('whoami-user-alice.txt') }, [GROUPS]: { code: 0, stdout: fixture('whoami-groups-filtered.txt') } });
    expect(sidsIn(fixture('whoami-groups-filtered.txt'))).toContain('S-1-5-32-544');
    expect(decideAdmin({ platform: 'win32', euid: undefined, run: r.run })).toBe(false);
  });

  test('SYSTEM (scheduled task or service, S-1-5-18) is admin without asking for groups', () => {
    const r = recorded({ [USER]: { code: 0, stdout: fixture('whoami-user-system.txt') } });
    expect(decideAdmin({ platform: 'win32', euid: undefined, run: r.run })).toBe(true);
    expect(r.calls).toEqual([USER]);
  });

  test('system integrity label alone (S-1-16-16384) is admin', () => {
    const r = recorded({ [USER]: { code: 0, stdout: '"x\\svc","S-1-5-80-1"\r\n' }, [GROUPS]: { code: 0, stdout: fixture('whoami-groups-system.txt') } });
    expect(decideAdmin({ platform: 'win32', euid: undefined, run: r.run })).toBe(true);
  });

  test('without whoami, `net session` decides (0 = elevated, 2 = access denied)', () => {
    expect(decideAdmin({ platform: 'win32', euid: undefined, run: recorded({ 'net session': { code: 0, stdout: '' } }).run })).toBe(true);
    expect(decideAdmin({ platform: 'win32', euid: undefined, run: recorded({ 'net session': { code: 2, stdout: '' } }).run })).toBe(false);
  });

  test('POSIX: euid 0 only, and no command is run', () => {
    const r = recorded({});
    expect(decideAdmin({ platform: 'linux', euid: 0, run: r.run })).toBe(true);
    expect(decideAdmin({ platform: 'linux', euid: 1000, run: r.run })).toBe(false);
    expect(r.calls).toEqual([]);
  });

  test('isAdmin() on a POSIX host is the effective uid check', () => {
    if (process.platform !== 'win32') expect(isAdmin()).toBe(process.geteuid!() === 0);
  });
});

describe('rights: one answer for every verb', () => {
  test('Windows admin (elevated or SYSTEM) installs to SystemDrive\\; was refused when isRoot was always false', () => {
    expect(installTarget({ isAdmin: true, userModeRoot: null, platform: 'win32' }, 'install')).toMatch(/^[A-Z]:\\$/);
  });

  test('Windows non-elevated: PERMISSION_DENIED naming an elevated prompt or SYSTEM', () => {
    let err: unknown;
    try {
      installTarget({ isAdmin: false, userModeRoot: null, platform: 'win32' }, 'install');
    } catch (e) {
      err = e;
    }
    expect(isWaptError(err, 'PERMISSION_DENIED')).toBe(true);
    expect((err as WaptError).message).toMatch(/elevated prompt .*SYSTEM/);
    expect((err as WaptError).exitCode).toBe(10);
  });

  test('config.isRoot carries isAdmin() when not given (the value targetFor asks)', async () => {
    const c = await loadConfig({ path: path.join(FIX, 'absent.ini'), env: {}, machineIdPath: '/nonexistent' });
    expect(c.isRoot).toBe(isAdmin());
  });
});

describe('Windows default paths (path.win32)', () => {
  const env = { ProgramData: 'D:\\ProgramData', APPDATA: 'C:\\Users\\alice\\AppData\\Roaming', LOCALAPPDATA: 'C:\\Users\\alice\\AppData\\Local' };

  test('admin: config and DB under %ProgramData%\\wapt-get', () => {
    expect(defaultPaths({ platform: 'win32', env, isAdmin: true })).toEqual({
      configPath: 'D:\\ProgramData\\wapt-get\\wapt-get.ini',
      dbdir: 'D:\\ProgramData\\wapt-get',
    });
    expect(defaultPaths({ platform: 'win32', env: {}, isAdmin: true }).dbdir).toBe('C:\\ProgramData\\wapt-get');
  });

  test('non-elevated user: per-user folders, never the machine-wide ones', () => {
    expect(defaultPaths({ platform: 'win32', env, isAdmin: false })).toEqual({
      configPath: 'C:\\Users\\alice\\AppData\\Roaming\\wapt-get\\wapt-get.ini',
      dbdir: 'C:\\Users\\alice\\AppData\\Local\\wapt-get',
    });
  });

  test('loadConfig for win32: DB, lock, cache and trusted certs all below C:\\ProgramData\\wapt-get', async () => {
    const c = await loadConfig({ env: { ProgramData: 'C:\\ProgramData' }, isRoot: true, platform: 'win32', machineIdPath: '/nonexistent' });
    expect(c.configPath).toBe('C:\\ProgramData\\wapt-get\\wapt-get.ini');
    expect(c.dbPath).toBe('C:\\ProgramData\\wapt-get\\waptdb.sqlite');
    expect(c.lockPath).toBe('C:\\ProgramData\\wapt-get\\wapt-get.lock');
    expect(c.cacheDir).toBe('C:\\ProgramData\\wapt-get\\cache');
    expect(c.trustedCertsDir).toBe('C:\\ProgramData\\wapt-get\\ssl');
  });

  test('POSIX defaults unchanged', () => {
    expect(defaultPaths({ platform: 'linux', env: {}, isAdmin: true })).toEqual({ configPath: '/etc/wapt-get/wapt-get.ini', dbdir: '/var/lib/wapt-get' });
    expect(defaultPaths({ platform: 'linux', env: { HOME: '/home/a' }, isAdmin: false }).dbdir).toBe('/home/a/.local/state/wapt-get');
  });
});

describe('private directories on Windows: icacls', () => {
  test('arguments: inheritance removed, full control to Administrators and SYSTEM by SID, inherited by children', () => {
    expect(privateAclArgs('C:/ProgramData/wapt-get/ssl')).toEqual([
      'C:\\ProgramData\\wapt-get\\ssl',
      '/inheritance:r',
      '/grant:r',
      '*S-1-5-32-544:(OI)(CI)F',
      '/grant:r',
      '*S-1-5-18:(OI)(CI)F',
      '/q',
    ]);
  });

  test('restrictToAdmins runs icacls on win32, fails loudly when it fails, and does nothing on POSIX', () => {
    const ok = recorded({ [['icacls', ...privateAclArgs('C:\\ProgramData\\wapt-get')].join(' ')]: { code: 0, stdout: '' } });
    restrictToAdmins('C:\\ProgramData\\wapt-get', 'win32', ok.run);
    expect(ok.calls).toHaveLength(1);
    expect(() => restrictToAdmins('C:\\x', 'win32', recorded({}).run)).toThrow(/icacls could not restrict/);
    const none = recorded({});
    restrictToAdmins('/var/lib/wapt-get', 'linux', none.run);
    expect(none.calls).toEqual([]);
  });
});

describe('the state dirs an admin run opens are kept to Administrators and SYSTEM (what AgentRuntime.open calls)', () => {
  const dirs = ['C:\\ProgramData\\wapt-get', 'C:\\ProgramData\\wapt-get\\cache'];
  test('an admin run on win32 runs icacls on dbdir and the cache', () => {
    const r = recorded(Object.fromEntries(dirs.map((d) => [['icacls', ...privateAclArgs(d)].join(' '), { code: 0, stdout: '' }])));
    protectStateDirs(dirs, { isAdmin: true, platform: 'win32', run: r.run });
    expect(r.calls).toEqual(dirs.map((d) => ['icacls', ...privateAclArgs(d)].join(' ')));
  });
  test('a user-mode (non-admin) run and POSIX leave the ACLs alone', () => {
    const r = recorded({});
    protectStateDirs(dirs, { isAdmin: false, platform: 'win32', run: r.run });
    protectStateDirs(['/var/lib/wapt-get'], { isAdmin: true, platform: 'linux', run: r.run });
    expect(r.calls).toEqual([]);
  });
  test('an icacls failure is an error, not silence', () => {
    expect(() => protectStateDirs(dirs, { isAdmin: true, platform: 'win32', run: recorded({}).run })).toThrow(/icacls could not restrict/);
  });
});

describeWindows('admin detection on a real Windows host', () => {
  test('whoami answers and the decision matches `net session`', () => {
    const viaNet = decideAdmin({ platform: 'win32', euid: undefined, run: (c, a) => (c === 'net' ? realNet(a) : { code: null, stdout: '' }) });
    expect(isAdmin()).toBe(viaNet);
  });

  test('config.isRoot (what every verb rights check reads) is that answer, not "never on Windows"', async () => {
    const c = await loadConfig({ path: path.join(FIX, 'absent.ini'), env: process.env, machineIdPath: '/nonexistent' });
    expect(c.isRoot).toBe(isAdmin());
  });
});

function realNet(args: string[]): ProbeResult {
  const r = spawnSync('net', args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout ?? '' };
}
