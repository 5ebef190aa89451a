// Issue 13 §2: a hook's whole process tree dies on timeout, on interruption of wapt-get,
// and (after a crash) on the next run. Windows has no process groups: taskkill /T /F,
// and the process list decides which orphaned trees are ours. The interruption case
// runs for real here (process groups); the Windows commands are checked as argv.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { orphanTreeRoots, parseProcessList, processListCommand, taskkillCommand, killTreeWindows } from '../../src/agent/hooks/windows/process-tree.js';
import { describeUnlessWindows, describeWindows } from './windows-only.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const DIST_RUNNER = fileURLToPath(new URL('../../dist/agent/hooks/runner.js', import.meta.url));

describe('taskkill and the Windows process list', () => {
  test('taskkill /T /F /PID: the tree, forcibly; bad pids refused', () => {
    expect(taskkillCommand(5120)).toEqual({ cmd: 'taskkill', args: ['/T', '/F', '/PID', '5120'] });
    expect(() => taskkillCommand(0)).toThrow(/invalid pid/);
    expect(() => taskkillCommand(-5)).toThrow(/invalid pid/);
    const seen: string[] = [];
    expect(killTreeWindows(77, (c) => (seen.push([c.cmd, ...c.args].join(' ')), 0))).toBe(0);
    expect(seen).toEqual(['taskkill /T /F /PID 77']);
  });

  test('process list: CIM through PowerShell as CSV, parsed with quoted command lines', () => {
    expect(processListCommand().cmd).toBe('powershell.exe');
    expect(processListCommand().args.at(-1)).toMatch(/Win32_Process .*ProcessId,ParentProcessId,CommandLine .*ConvertTo-Csv/);
    const list = parseProcessList(readFileSync(path.join(FIX, 'processes.csv'), 'utf8'));
    expect(list).toHaveLength(6);
    expect(list[1]).toEqual({
      pid: 5120,
      ppid: 880,
      commandLine: '"C:\\Program Files\\nodejs\\node.exe" "C:\\Program Files\\wapt-get\\dist\\agent\\hooks\\child.js"',
    });
    expect(list[0]).toEqual({ pid: 4, ppid: 0, commandLine: '' });
  });

  test('orphan after a crash: the live hook child is killed with its tree', () => {
    const list = parseProcessList(readFileSync(path.join(FIX, 'processes.csv'), 'utf8'));
    expect(orphanTreeRoots(list, 5120)).toEqual([5120]);
  });

  test('orphan after a crash: the hook child is gone, its leftover children (same parent pid) are killed', () => {
    const list = parseProcessList(readFileSync(path.join(FIX, 'processes.csv'), 'utf8'));
    expect(orphanTreeRoots(list, 4321)).toEqual([6200, 6201]);
  });

  test('recycled pid: the recorded pid now runs another program, nothing is touched', () => {
    const list = parseProcessList(readFileSync(path.join(FIX, 'processes.csv'), 'utf8'));
    expect(orphanTreeRoots(list, 6100)).toEqual([]);
  });
});

/** Running (a zombie waiting for its reaper has already been killed). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return process.platform !== 'linux' || !/\) Z /.test(state(pid));
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// POSIX process groups and `sleep`; the Windows side (taskkill) is the describeWindows block below.
describeUnlessWindows('interruption of wapt-get kills the hook tree (real processes, process groups)', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ptree-'));
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  test.each(['SIGINT', 'SIGTERM'] as const)('%s to the runner kills the hook and the installer it started, then the runner dies of it', async (sig) => {
    if (!existsSync(DIST_RUNNER)) throw new Error(`${DIST_RUNNER} missing: run npx tsc -p tsconfig.json first`);
    const pidFile = path.join(tmp, 'grandchild.pid');
    await writeFile(
      path.join(tmp, 'setup.mjs'),
      `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
export async function install() {
  const c = spawn('sleep', ['300'], { stdio: 'ignore' });
  writeFileSync(${JSON.stringify(pidFile)}, String(c.pid));
  await new Promise(() => {});
}\n`,
    );
    const driver = `import { runHook } from ${JSON.stringify(DIST_RUNNER)};
const ctx = { package: 'tis-hang', version: '1-1', control: {}, params: {}, targetRoot: ${JSON.stringify(tmp)}, packageDir: ${JSON.stringify(tmp)}, persistent: {}, os: process.platform, arch: process.arch };
await runHook({ setupPath: ${JSON.stringify(path.join(tmp, 'setup.mjs'))}, hook: 'install', ctx, timeoutMs: 600000, onSpawn: (pid) => console.log('hook', pid) });\n`;
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, ['--input-type=module', '-e', driver], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    await waitFor(
      () => existsSync(pidFile) && /hook \d+/.test(out),
      40_000,
      () => `the hook and its installer to start (output: ${out})`,
    );
    const hookPid = Number(/hook (\d+)/.exec(out)![1]);
    const installerPid = Number(await readFile(pidFile, 'utf8'));
    expect(alive(hookPid) && alive(installerPid)).toBe(true);

    child.kill(sig);
    const how = await exited;
    expect(how.signal).toBe(sig); // the signal still ends wapt-get as it would have
    await waitFor(
      () => !alive(installerPid) && !alive(hookPid),
      10_000,
      () => `the hook tree to die: ${state(hookPid)} / ${state(installerPid)}`,
    );
  });
});

describeWindows('taskkill on a real Windows host', () => {
  test('a hook timeout kills the installer the hook started (runner → taskkill /T /F)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ptree-win-'));
    const pidFile = path.join(dir, 'installer.pid');
    await writeFile(
      path.join(dir, 'setup.mjs'),
      `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
export async function install() {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  writeFileSync(${JSON.stringify(pidFile)}, String(c.pid));
  await new Promise(() => {});
}\n`,
    );
    const { runHook } = await import('../../src/agent/hooks/runner.js');
    const ctx = { package: 'tis-hang', version: '1-1', control: {}, params: {}, targetRoot: dir, packageDir: dir, persistent: {}, os: 'win32', arch: 'x64' };
    await expect(runHook({ setupPath: path.join(dir, 'setup.mjs'), hook: 'install', ctx, timeoutMs: 3000, killGraceMs: 500 })).rejects.toThrow(/timeout/);
    const installer = Number(await readFile(pidFile, 'utf8'));
    await waitFor(
      () => !alive(installer),
      10_000,
      () => `installer ${installer} to die`,
    );
    await rm(dir, { recursive: true, force: true });
  });

  test('a tree of two processes dies with taskkill /T /F on its root', async () => {
    const parent = spawn(
      process.execPath,
      ['-e', "require('child_process').spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], {stdio:'inherit'}); setInterval(()=>{},1000)"],
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 1500));
    const before = spawnSync(processListCommand().cmd, processListCommand().args, { encoding: 'utf8' });
    const kids = parseProcessList(before.stdout).filter((p) => p.ppid === parent.pid);
    expect(kids).toHaveLength(1);
    expect(killTreeWindows(parent.pid!)).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    expect(alive(kids[0]!.pid)).toBe(false);
  });
});

function state(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return `${pid} gone`;
  }
}
