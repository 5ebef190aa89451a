// stdout carries the result, stderr the diagnostics. --json switches only the renderer.
import { Chalk, type ChalkInstance } from 'chalk';

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  /** Colour on stdout (results). */
  color: boolean;
  /** Colour on stderr (progress, warnings, errors); default: same as color. */
  errColor?: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  /** Colours for result lines (stdout), decided from stdout. */
  readonly c: ChalkInstance;
  /** Colours for diagnostics (stderr), decided from stderr. */
  readonly ce: ChalkInstance;
  readonly isTTY: boolean;
  private readonly stdout: NodeJS.WritableStream;
  private readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };

  constructor(opts: OutputOptions) {
    this.json = opts.json;
    this.quiet = opts.quiet;
    this.verbose = opts.verbose;
    this.stdout = opts.stdout ?? process.stdout;
    this.stderr = opts.stderr ?? process.stderr;
    this.isTTY = Boolean(this.stderr.isTTY);
    this.c = new Chalk({ level: opts.color ? 1 : 0 });
    this.ce = new Chalk({ level: (opts.errColor ?? opts.color) ? 1 : 0 });
  }

  /**
   * The command's result: JSON object in --json mode, human lines otherwise. --quiet (cron)
   * prints no result at all: errors and warnings on stderr and the exit code say what matters.
   */
  result(data: unknown, human: () => string | string[]): void {
    if (this.json) {
      this.stdout.write(JSON.stringify(data, null, 2) + '\n');
      return;
    }
    if (this.quiet) return;
    const text = human();
    const lines = Array.isArray(text) ? text : [text];
    if (lines.length) this.stdout.write(inert(lines.join('\n')) + '\n');
  }

  /** Progress and step lines (stderr; hidden with --quiet and in --json mode). */
  info(msg: string): void {
    if (!this.quiet && !this.json) this.stderr.write(inert(msg) + '\n');
  }

  debug(msg: string): void {
    if (this.verbose) this.stderr.write(this.ce.dim(msg) + '\n');
  }

  /** Warnings always reach stderr, even with --json (stdout stays machine-readable). */
  warn(msg: string): void {
    this.stderr.write(this.ce.yellow('warning: ') + inert(msg) + '\n');
  }

  /** A failure line that --quiet keeps (not in --json mode: the JSON result carries it). */
  problem(msg: string): void {
    if (!this.json) this.stderr.write(inert(msg) + '\n');
  }

  error(msg: string): void {
    this.stderr.write(this.ce.red('error: ') + inert(msg) + '\n');
  }

  /** Raw write to stderr for progress bars (only call when isTTY). */
  progress(text: string): void {
    if (!this.quiet && !this.json && this.isTTY) this.stderr.write(text);
  }
}

// C0 (but tab and newline), DEL, C1, and ESC unless it starts one of the few colour
// sequences our palette writes (bold, dim, red, green, yellow and their resets): none of
// them can hide text (no conceal, no black on black), set a title or move the cursor.
const CONTROL = /\x1b(?!\[(?:1|2|22|31|32|33|39)m)|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f\x80-\x9f]/g;

/**
 * Text that reaches a terminal may carry what a package author wrote (a description, a
 * hook's message): control characters are shown as \xNN so no one can set the window
 * title, clear the screen or hide a line behind a carriage return. Our own colours stay.
 */
export function inert(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Decided for ONE stream: `show x > file` from a terminal writes no escape codes into the file. */
export function colorEnabled(env: NodeJS.ProcessEnv, stream: { isTTY?: boolean }, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}
