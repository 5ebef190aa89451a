// Killing a hook's whole process tree on Windows, where there are no process groups:
// `taskkill /T /F /PID` walks the tree by parent pid and terminates it (issue 13 §2).
// The argument builders and the orphan decision are pure, tested on Linux; the runner
// (timeout, interruption) and recover.ts (the next run after a crash) call them.
import { spawnSync } from 'node:child_process';
import { systemTool } from './cmdline.js';

export { systemTool };

/** A program and its arguments, run without a shell. */
export interface Command {
  cmd: string;
  args: string[];
}

/** /T: the tree below the pid too; /F: terminate (console installers ignore WM_CLOSE). */
export function taskkillCommand(pid: number): Command {
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`taskkill: invalid pid ${pid}`);
  return { cmd: 'taskkill', args: ['/T', '/F', '/PID', String(pid)] };
}

/** Synchronous (it runs from process 'exit' handlers too); returns taskkill's exit code (128: no such process). */
export function killTreeWindows(pid: number, run: (c: Command) => number | null = runSync): number | null {
  return run(taskkillCommand(pid));
}

function runSync(c: Command): number | null {
  return spawnSync(systemTool(c.cmd), c.args, { stdio: 'ignore', windowsHide: true, timeout: 30_000 }).status;
}

export interface WinProcess {
  pid: number;
  ppid: number;
  commandLine: string;
}

/** Lists processes as CSV: ProcessId, ParentProcessId, CommandLine (CIM, present on every supported Windows). */
export function processListCommand(): Command {
  return {
    cmd: 'powershell.exe',
    args: [
      '-NoProfile',
      '-NonInteractive',
      '-Command',
      'Get-CimInstance Win32_Process | Select-Object ProcessId,ParentProcessId,CommandLine | ConvertTo-Csv -NoTypeInformation',
    ],
  };
}

/** Parses ConvertTo-Csv output ("a","b","c" lines, "" for a quote inside a field). */
export function parseProcessList(csv: string): WinProcess[] {
  const out: WinProcess[] = [];
  for (const line of csv.split(/\r?\n/).slice(1)) {
    if (!line.trim()) continue;
    const fields = [...line.matchAll(/"((?:[^"]|"")*)"|(?<=^|,)(?=,|$)/g)].map((m) => (m[1] ?? '').replace(/""/g, '"'));
    const [pid, ppid, commandLine = ''] = fields;
    if (!/^\d+$/.test(pid ?? '') || !/^\d+$/.test(ppid ?? '')) continue;
    out.push({ pid: Number(pid), ppid: Number(ppid), commandLine });
  }
  return out;
}

const HOOK_CHILD = /hooks[\\/]child/;

/**
 * Which trees to kill for a hook recorded as `pid` whose wapt-get run is gone:
 * the hook child itself when it still runs (its command line names hooks/child);
 * when it is gone, the children it left behind (still naming it as parent);
 * when `pid` now belongs to another program, nothing (the pid was recycled).
 */
export function orphanTreeRoots(list: WinProcess[], pid: number): number[] {
  const self = list.find((p) => p.pid === pid);
  if (self) return HOOK_CHILD.test(self.commandLine) ? [pid] : [];
  return list.filter((p) => p.ppid === pid).map((p) => p.pid);
}
