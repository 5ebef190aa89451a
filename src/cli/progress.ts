// The agent verbs at the CLI edge: config with command-line overrides, live step lines,
// a download bar on a TTY (plain lines otherwise), hook output streamed on a TTY, and
// the rendering of plans/results. Light on purpose: agent code is imported on use.
import type { WaptConfig } from '../agent/index.js';
import type { PlanJson, StepResult, VerbIo } from '../agent/index.js';
import type { PlanStep } from '../agent/index.js';
import type { CommandContext, CommandOptions, OptionSpec } from './command.js';
import { loadConfigFor, logFileOf } from './context.js';
import { ERROR_TABLE } from '../errors.js';

function hintOf(code: string): string | undefined {
  return code in ERROR_TABLE ? ERROR_TABLE[code as keyof typeof ERROR_TABLE].remedy : undefined;
}

export const DRY_RUN: OptionSpec = { flags: '-n, --dry-run', description: 'print the exact plan and change nothing' };
export const LOCK_TIMEOUT: OptionSpec = {
  flags: '--lock-timeout <seconds>',
  description: 'wait this long for another wapt-get to finish (default: lock_timeout in wapt-get.ini, 60)',
};
export const LIMIT_RATE: OptionSpec = {
  flags: '--limit-rate <rate>',
  description: 'download rate cap in bytes/s, k/M suffixes allowed (default: limit_rate in wapt-get.ini)',
};
/** curl's --max-time, --speed-limit, --speed-time: a transfer never holds the run (and its lock) for ever. */
export const TRANSFER_LIMITS: OptionSpec[] = [
  { flags: '--transfer-timeout <seconds>', description: 'longest one download may take, retries included; 0: none (default: transfer_timeout, 7200)' },
  { flags: '--low-speed-limit <rate>', description: 'abort a download slower than this many bytes/s… (default: low_speed_limit, 1k; 0: none)' },
  { flags: '--low-speed-time <seconds>', description: '…for this long (default: low_speed_time, 60)' },
];
export const FORCE: OptionSpec = { flags: '-f, --force', description: 'reinstall packages that are already installed' };

/** wapt-get.ini with the verb's overrides (validated by the config loader like ini values). */
export async function agentConfig(ctx: CommandContext, opts: CommandOptions): Promise<WaptConfig> {
  const overrides: Record<string, string> = {};
  if (opts.limitRate !== undefined) overrides.limit_rate = String(opts.limitRate);
  if (opts.lockTimeout !== undefined) overrides.lock_timeout = String(opts.lockTimeout);
  if (opts.transferTimeout !== undefined) overrides.transfer_timeout = String(opts.transferTimeout);
  if (opts.lowSpeedLimit !== undefined) overrides.low_speed_limit = String(opts.lowSpeedLimit);
  if (opts.lowSpeedTime !== undefined) overrides.low_speed_time = String(opts.lowSpeedTime);
  return loadConfigFor(ctx, overrides);
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

const ACTION_WORD: Record<string, string> = { install: 'installing', upgrade: 'upgrading', reinstall: 'reinstalling', remove: 'removing' };

/** The VerbIo of one command run: everything goes to stderr, stdout keeps the result. */
export function verbIo(ctx: CommandContext, word?: string): VerbIo {
  const out = ctx.out;
  let lastDraw = 0;
  const startedAt = new Map<string, number>();
  const announced = new Set<string>();
  return {
    env: ctx.env,
    log: { info: (m) => out.info(m), warn: (m) => out.warn(m), debug: (m) => out.debug(m) },
    step(i: number, n: number, s: PlanStep) {
      const ver = s.action === 'remove' ? s.fromVersion : s.toVersion;
      logFileOf(ctx)?.write(`[${i}/${n}] ${s.action} ${s.package} ${ver ?? ''}\n`);
      out.info(`${out.ce.bold(`[${i}/${n}]`)} ${word ?? ACTION_WORD[s.action] ?? s.action} ${s.package} ${ver ?? ''} …`);
    },
    result(r: StepResult) {
      logFileOf(ctx)?.write(`  ${r.package} ${r.status}${r.status === 'ERROR' ? ` [${r.error_code}] ${r.message ?? ''}` : ''}\n`);
      if (r.status === 'ERROR') {
        const hint = r.error_code ? hintOf(r.error_code) : undefined;
        // --quiet (cron) still shows failures, in the one-line error format
        if (out.quiet) out.problem(`${out.ce.red('wapt-get: error')} [${r.error_code}] ${r.package}: ${r.message ?? ''}`);
        else out.info(`  ${out.ce.red('ERROR')} [${r.error_code}] ${r.message ?? ''}`);
        if (hint) out.problem(`${out.ce.dim('  hint:')} ${hint.replace(/\bNAME\b/g, r.package)}`);
      } else out.info(`  ${out.ce.green(r.status)}`);
    },
    output(chunk: string) {
      logFileOf(ctx)?.write(chunk);
      // live hook output only on a terminal; it is stored in the DB (install_output) anyway
      out.progress(chunk);
    },
    progress(pkg: string, done: number, total: number | null) {
      if (out.isTTY) {
        const now = Date.now();
        const began = startedAt.get(pkg) ?? (startedAt.set(pkg, now), now);
        if (now - lastDraw < 100 && done !== total) return;
        lastDraw = now;
        const pct = total ? ` ${Math.floor((done / total) * 100)}%` : '';
        const width = 24;
        const bar = total ? '#'.repeat(Math.round((done / total) * width)).padEnd(width, '.') : '';
        const secs = Math.max((now - began) / 1000, 0.001);
        const rate = done / secs;
        // rate and time left while it runs; once complete, what happens next (the silent seconds after 100 %)
        const running = rate > 0 ? ` ${fmtBytes(Math.round(rate))}/s${total ? ` ETA ${fmtSeconds((total - done) / rate)}` : ''}` : '';
        const after = `\n  ${fmtBytes(done)} in ${fmtSeconds(secs)} (${fmtBytes(Math.round(rate))}/s); verifying and unpacking ${pkg}…\n`;
        out.progress(
          `\r  ${pkg} [${bar}]${pct} ${fmtBytes(done)}${total ? `/${fmtBytes(total)}` : ''}${done === total ? `\x1b[K${after}` : `${running}\x1b[K`}`,
        );
      } else if (!announced.has(pkg)) {
        announced.add(pkg);
        out.info(`  downloading ${pkg}${total ? ` (${fmtBytes(total)})` : ''}`);
      }
    },
  };
}

/** Prints a verb outcome: JSON `{plan, results, leftovers}` or plan + results lines. */
export async function printOutcome(
  ctx: CommandContext,
  outcome: { plan?: PlanJson; results: StepResult[]; leftovers?: unknown[]; dryRun?: boolean },
): Promise<void> {
  const { planLines, resultLine } = await import('../agent/index.js');
  ctx.out.result(
    {
      ...(outcome.plan !== undefined ? { plan: outcome.plan } : {}),
      dry_run: Boolean(outcome.dryRun),
      results: outcome.results,
      leftovers: outcome.leftovers ?? [],
    },
    () => {
      const lines: string[] = [];
      if (outcome.dryRun || outcome.results.length === 0) if (outcome.plan) lines.push(...planLines(outcome.plan));
      if (outcome.dryRun) lines.push('(dry run: nothing was changed)');
      for (const r of outcome.results) lines.push(resultLine(r));
      return lines;
    },
  );
}
