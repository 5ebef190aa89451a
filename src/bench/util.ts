// Small helpers of the benchmark harness: child processes, timing, peak RSS.
// Every timing is wall-clock around a real process (or an in-process call).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (dist/bench/util.js → ../..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_BIN = join(ROOT, 'bin', 'wapt-get');
export const TIME_BIN = '/usr/bin/time';
export const MiB = 1024 * 1024;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Keep stdout (default: discarded, it can be large). */
  captureStdout?: boolean;
  /** Write stdout to this file descriptor instead. */
  stdoutFd?: number;
}

/** Runs a program to completion; stderr is kept (for error messages), stdout on request. */
export function run(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const stdout = o.stdoutFd ?? (o.captureStdout ? 'pipe' : 'ignore');
    const child = spawn(cmd, args, { cwd: o.cwd, env: { ...process.env, NO_COLOR: '1', ...o.env }, stdio: ['ignore', stdout, 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      resolvePromise({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        seconds: Number(process.hrtime.bigint() - t0) / 1e9,
      });
    });
  });
}

/** Like run() but throws with the program's stderr when it exits non-zero. */
export async function runOk(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, o);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(-800)}`);
  return r;
}

/** A shell pipeline, failing when any stage fails. */
export function sh(script: string, o: RunOptions = {}): Promise<RunResult> {
  return runOk('bash', ['-c', `set -euo pipefail; ${script}`], o);
}

export function cli(args: string[], o: RunOptions = {}): Promise<RunResult> {
  return runOk(process.execPath, [CLI_BIN, ...args], o);
}

export function hasCommand(name: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Shell-quotes one argument. */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface Timing {
  /** Best (minimum) of the runs, seconds. */
  seconds: number;
  runs: number;
}

/**
 * Best of `runs` timings; `runs` defaults to 3, or 1 when the first run took ≥ 5 s
 * (a minimum guards against a noisy neighbour; long runs are stable enough alone).
 * `prepare` runs before each timing, untimed.
 */
export async function best(fn: () => Promise<number | void>, opts: { runs?: number; prepare?: () => Promise<void> } = {}): Promise<Timing> {
  const times: number[] = [];
  const want = opts.runs ?? 3;
  for (let i = 0; i < want; i++) {
    await opts.prepare?.();
    const t0 = process.hrtime.bigint();
    const reported = await fn();
    times.push(typeof reported === 'number' ? reported : Number(process.hrtime.bigint() - t0) / 1e9);
    if (opts.runs === undefined && i === 0 && times[0]! >= 5) break;
  }
  return { seconds: Math.min(...times), runs: times.length };
}

/**
 * Peak RSS (MB) of a child process tree's largest process: GNU time's %M when
 * installed, else VmHWM polled from /proc (the last value before exit).
 */
export async function peakRss(cmd: string, args: string[], o: RunOptions = {}): Promise<{ mb: number; seconds: number; how: string }> {
  if (existsSync(TIME_BIN)) {
    const out = join(o.cwd ?? ROOT, `.rss-${process.pid}-${Date.now()}`);
    const r = await run(TIME_BIN, ['-f', '%M', '-o', out, cmd, ...args], o);
    const kb = Number((await readFile(out, 'utf8').catch(() => '')).trim().split('\n').pop());
    await rm(out, { force: true });
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(-800)}`);
    return { mb: kb / 1024, seconds: r.seconds, how: '/usr/bin/time %M' };
  }
  return pollHwm(cmd, args, o);
}

async function pollHwm(cmd: string, args: string[], o: RunOptions): Promise<{ mb: number; seconds: number; how: string }> {
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd, args, { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let hwmKb = 0;
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setInterval(() => {
    readFile(`/proc/${child.pid}/status`, 'utf8')
      .then((s) => {
        const m = /VmHWM:\s+(\d+)/.exec(s);
        if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
      })
      .catch(() => undefined);
  }, 20);
  const code = await new Promise<number | null>((res) => child.on('close', res));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${cmd} exited ${code}: ${stderr.slice(-800)}`);
  return { mb: hwmKb / 1024, seconds: Number(process.hrtime.bigint() - t0) / 1e9, how: '/proc VmHWM polling' };
}

export function fmtSize(bytes: number): string {
  return bytes >= 1024 * MiB ? `${bytes / (1024 * MiB)} GiB` : `${bytes / MiB} MiB`;
}

/** The page cache is never dropped (that needs root and hurts the machine): every contender reads warm files alike. */
export const PAGE_CACHE_NOTE = 'files are in the page cache for every contender (24 GiB RAM)';
