// `wapt-get history [NAME]`: what this host did, from the DB's log (when, what, result,
// error code, who ran it), and for one package the tail of its last hook output.
import type { LogRow } from '../../agent/index.js';
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';

export interface HistoryEntry {
  at: string;
  package: string | null;
  action: string;
  result: 'OK' | 'ERROR' | 'STARTED' | 'WARNING';
  error_code: string | null;
  user: string | null;
  message: string;
}

/** The log's messages are written by the install transaction: "<action> NAME VERSION started|OK|failed: [CODE] …". */
export function historyEntry(row: LogRow): HistoryEntry {
  const code = /\[([A-Z][A-Z0-9_]+)\]/.exec(row.message)?.[1] ?? null;
  const action = /^(\w+)/.exec(row.message)?.[1] ?? 'note';
  const result = row.level === 'error' ? 'ERROR' : / started\b/.test(row.message) ? 'STARTED' : row.level === 'warning' ? 'WARNING' : 'OK';
  return { at: row.at, package: row.package, action, result, error_code: code, user: row.user, message: row.message };
}

/** The last `lines` lines of a hook's captured output. */
export function outputTail(output: string, lines = 20): string[] {
  const all = output.replace(/\s+$/, '').split('\n');
  return output.trim() === '' ? [] : all.slice(-lines);
}

export const command: CommandSpec = {
  name: 'history',
  summary: 'what this host did: each install, upgrade, removal and hold, with result, error code and who ran it',
  args: ['[package]'],
  options: [{ flags: '-n, --lines <n>', description: 'entries to show (newest kept)', default: '50' }],
  help: 'With a package name, also the tail of its last hook output (install_output in the DB).',
  async run(ctx, [name], opts) {
    const { AgentRuntime } = await import('../../agent/index.js');
    const { WaptError } = await import('../../errors.js');
    const limit = Number(opts.lines);
    if (!Number.isInteger(limit) || limit <= 0) throw new WaptError('USAGE', `--lines ${String(opts.lines)}: a whole number above 0`);
    const rt = await AgentRuntime.open(await configOf(ctx), { lock: false, env: ctx.env, log: ctx.out });
    let rows: LogRow[];
    let output: string[] = [];
    let installed = null;
    try {
      rows = name ? rt.db.log.forPackage(name as string, limit) : rt.db.log.list(limit);
      if (name) {
        const row = rt.db.installed.get(name as string);
        if (row) {
          installed = { version: row.version, install_status: row.install_status, error_code: row.error_code ?? null };
          output = outputTail(row.install_output);
        }
      }
    } finally {
      await rt.close();
    }
    const entries = rows.map(historyEntry);
    ctx.out.result({ package: name ?? null, entries, installed, output_tail: output }, () => {
      const lines = entries.map((e) => `${e.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}  ${e.result.padEnd(7)} ${(e.user ?? '?').padEnd(8)} ${e.message}`);
      if (lines.length === 0) lines.push(name ? `no history for ${name as string}` : 'no history yet');
      if (output.length) lines.push(`last hook output of ${name as string}:`, ...output.map((l) => `  | ${l}`));
      return lines;
    });
  },
};
