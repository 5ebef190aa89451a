// The Windows helpers of a hook (WindowsHelpers in api.ts), over an injectable command
// runner so their orchestration is tested on Linux with recorded reg/sc/msiexec answers.
import os from 'node:os';
import path from 'node:path';
import type { HookContext, InstalledSoftware, MsiResult, RegistryValue, RunResult, ServiceState, WindowsHelpers } from '../api.js';
import { confine } from '../paths.js';
import { msiProperty, quoteWindowsArg, systemTool } from './cmdline.js';
import { msiInstallArgs, msiOutcome, msiRemoveArgs } from './msi.js';
import { parseRegQuery, regAddArgs, regDeleteArgs, regQueryArgs, REG_NOT_FOUND_EXIT } from './registry.js';
import { SC, parseScState, scQueryArgs, scStartArgs, scStopArgs } from './service.js';
import { dedupeSoftware, findSoftware, softwareFromDump, uninstallPlan, UNINSTALL_KEY, UNINSTALL_SOURCES } from './software.js';

export interface WinRunOptions {
  timeoutMs?: number;
  /** The args are already quoted command-line words (msiexec, registered uninstall strings). */
  verbatim?: boolean;
}
/** Runs a program without a shell; resolves with any exit code (rejects only when it cannot start). */
export type WinRunner = (cmd: string, args: string[], opts?: WinRunOptions) => Promise<RunResult>;

const INSTALL_TIMEOUT = 30 * 60_000;
const SERVICE_WAIT = 60_000;

export interface WindowsHelperDeps {
  run: WinRunner;
  /** Maps msiexec.exe/reg.exe/sc.exe to the program to run; default: its absolute path under %SystemRoot% (systemTool). */
  tool?: (name: string) => string;
  log: (msg: string) => void;
  /** Between service state polls; default 500 ms. */
  pollMs?: number;
  tmpdir?: string;
}

export function createWindowsHelpers(ctx: HookContext, deps: WindowsHelperDeps): WindowsHelpers {
  const { log } = deps;
  const tool = deps.tool ?? ((name: string) => systemTool(name));
  const run: WinRunner = (cmd, args, opts) => deps.run(tool(cmd), args, opts);
  const need = (what: string): void => {
    if (ctx.os !== 'win32') throw new Error(`${what} needs Windows (this system is ${ctx.os}); nothing was run`);
  };
  // msiexec, uninstallers and services act on the whole machine: refuse in user mode, as installDeb does.
  const systemWide = (what: string): void => {
    need(what);
    const root = path.win32.resolve(ctx.targetRoot);
    if (root !== path.win32.parse(root).root) throw new Error(`${what} installs system-wide and cannot honour targetRoot ${ctx.targetRoot} (user mode)`);
  };
  const inPackage = (rel: string, what: string): string => confine(ctx.packageDir, rel, what);
  const defaultLog = (verb: string): string => path.win32.join(deps.tmpdir ?? os.tmpdir(), `${ctx.package}-${verb}-msiexec.log`);

  const msiexec = async (args: string[], logFile: string, timeoutMs: number | undefined, removing: boolean): Promise<MsiResult> => {
    const r = await run(
      'msiexec.exe',
      args.map((a) => (/^[A-Z_][A-Z0-9_.]*="/.test(a) ? a : quoteWindowsArg(a))),
      {
        timeoutMs: timeoutMs ?? INSTALL_TIMEOUT,
        verbatim: true,
      },
    );
    const o = msiOutcome(r.code, { removing });
    if (!o.ok) throw new Error(`${o.message}; log: ${logFile}`);
    if (o.rebootRequired) log(`msiexec: done, a reboot is required to finish (exit ${r.code})`);
    return { code: r.code, rebootRequired: o.rebootRequired, log: logFile };
  };

  const regQuery = async (args: string[]): Promise<RunResult | undefined> => {
    const r = await run('reg.exe', args);
    if (r.code === REG_NOT_FOUND_EXIT) return undefined;
    if (r.code !== 0) throw new Error(`reg ${args[0]} ${args[1]} failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r;
  };

  const installedSoftware = async (): Promise<InstalledSoftware[]> => {
    need('installedSoftware');
    const all: InstalledSoftware[] = [];
    for (const src of UNINSTALL_SOURCES) {
      const r = await regQuery(regQueryArgs(`${src.hive}\\${UNINSTALL_KEY}`, { recursive: true, view: src.view }));
      if (r) all.push(...softwareFromDump(parseRegQuery(r.stdout), src.hive, src.view));
    }
    return dedupeSoftware(all);
  };

  const removeMsi: WindowsHelpers['removeMsi'] = async (productCode, opts = {}) => {
    systemWide('removeMsi');
    const logFile = opts.log ?? defaultLog('remove');
    return msiexec(msiRemoveArgs(productCode, logFile), logFile, opts.timeoutMs, true);
  };

  const serviceState = async (name: string): Promise<ServiceState> => {
    const r = await run('sc.exe', scQueryArgs(name));
    if (r.code === SC.SERVICE_DOES_NOT_EXIST) return 'NOT_FOUND';
    const state = parseScState(r.stdout);
    if (r.code !== 0 || !state) throw new Error(`sc query ${name} failed (exit ${r.code}): ${(r.stdout + r.stderr).trim().slice(-500)}`);
    return state;
  };
  const waitFor = async (name: string, want: ServiceState, timeoutMs: number): Promise<void> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const s = await serviceState(name);
      if (s === want) return;
      if (s === 'NOT_FOUND') throw new Error(`service ${name} does not exist`);
      if (Date.now() >= until) throw new Error(`service ${name} is ${s}, not ${want}, after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, deps.pollMs ?? 500));
    }
  };

  return {
    async installMsi(pathInPackage, opts = {}) {
      systemWide('installMsi');
      const file = inPackage(pathInPackage, 'installMsi');
      const logFile = opts.log ?? defaultLog('install');
      const props = Object.entries(opts.properties ?? {}).map(([k, v]) => msiProperty(k, v));
      return msiexec(msiInstallArgs(file, logFile, props), logFile, opts.timeoutMs, false);
    },
    removeMsi,
    async installExe(pathInPackage, args, opts = {}) {
      need('installExe');
      if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw new Error('installExe: args must be an array of strings');
      const r = await run(inPackage(pathInPackage, 'installExe'), args, { timeoutMs: opts.timeoutMs ?? INSTALL_TIMEOUT });
      if (!(opts.accept ?? [0]).includes(r.code)) throw new Error(`${pathInPackage} exited with code ${r.code}: ${r.stderr.trim().slice(-2000)}`);
      return r;
    },
    installedSoftware,
    async uninstallKey(nameOrCode, opts = {}) {
      systemWide('uninstallKey');
      const found = findSoftware(await installedSoftware(), nameOrCode);
      if (found.length === 0) return false;
      for (const s of found) {
        const plan = uninstallPlan(s, opts.silentArgs);
        if (plan.kind === 'unknown') throw new Error(`uninstallKey: ${plan.reason}`);
        if (plan.kind === 'msi') {
          await removeMsi(plan.productCode, { timeoutMs: opts.timeoutMs });
          continue;
        }
        log(`uninstalling ${s.name} ${s.version}: ${plan.program} ${plan.rest}`);
        const r = await run(plan.program, plan.rest ? [plan.rest] : [], { timeoutMs: opts.timeoutMs ?? INSTALL_TIMEOUT, verbatim: true });
        if (r.code !== 0 && r.code !== 3010) throw new Error(`uninstaller of ${s.name} exited with code ${r.code}`);
      }
      return true;
    },
    async registryGet(key, name, opts = {}) {
      need('registryGet');
      const r = await regQuery(regQueryArgs(key, { name, view: opts.view }));
      return r ? parseRegQuery(r.stdout)[0]?.values.find((v) => v.name.toLowerCase() === name.toLowerCase()) : undefined;
    },
    async registrySet(key, name, data, opts = {}) {
      need('registrySet');
      const type = opts.type ?? (typeof data === 'number' ? 'REG_DWORD' : Array.isArray(data) ? 'REG_MULTI_SZ' : 'REG_SZ');
      const r = await run('reg.exe', regAddArgs(key, name, data as RegistryValue['data'], type, opts.view));
      if (r.code !== 0) throw new Error(`reg add ${key} /v ${name} failed (exit ${r.code}): ${r.stderr.trim()}`);
    },
    async registryDelete(key, name, opts = {}) {
      need('registryDelete');
      const r = await run('reg.exe', regDeleteArgs(key, name, opts.view));
      if (r.code !== 0 && r.code !== REG_NOT_FOUND_EXIT) throw new Error(`reg delete ${key} failed (exit ${r.code}): ${r.stderr.trim()}`);
    },
    service(name) {
      return {
        async start(o = {}) {
          systemWide('service().start');
          const r = await run('sc.exe', scStartArgs(name));
          if (r.code !== 0 && r.code !== SC.ALREADY_RUNNING) throw new Error(`sc start ${name} failed (exit ${r.code}): ${r.stdout.trim().slice(-500)}`);
          await waitFor(name, 'RUNNING', o.timeoutMs ?? SERVICE_WAIT);
        },
        async stop(o = {}) {
          systemWide('service().stop');
          const r = await run('sc.exe', scStopArgs(name));
          if (r.code !== 0 && r.code !== SC.NOT_ACTIVE) throw new Error(`sc stop ${name} failed (exit ${r.code}): ${r.stdout.trim().slice(-500)}`);
          await waitFor(name, 'STOPPED', o.timeoutMs ?? SERVICE_WAIT);
        },
        async status() {
          need('service().status');
          return serviceState(name);
        },
      };
    },
  };
}
