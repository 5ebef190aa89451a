// Builds the commander program from the declared command list and runs one verb.
// Every failure leaves here as one line on stderr (or {code,message,detail} with
// --json) and an exit code from ERROR_TABLE.
import { Command, CommanderError, Option } from 'commander';
import { asWaptError, EXIT, WaptError } from '../errors.js';
import type { CommandContext, CommandSpec } from './command.js';
import { Output, colorEnabled } from './output.js';
import { versionLine } from './version-line.js';
import { helpTopic, unknownVerbError, usageError } from './usage.js';

export interface RunIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

interface GlobalOpts {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  config?: string;
}

function makeOutput(g: GlobalOpts, io: RunIo): Output {
  return new Output({
    json: Boolean(g.json),
    quiet: Boolean(g.quiet),
    verbose: Boolean(g.verbose),
    color: colorEnabled(io.env, io.stdout, g.color),
    errColor: colorEnabled(io.env, io.stderr, g.color),
    stdout: io.stdout,
    stderr: io.stderr,
  });
}

export async function runProgram(argv: string[], commands: CommandSpec[], io: RunIo): Promise<number> {
  let exitCode: number = EXIT.OK;
  // commander's own error text is replaced by one `wapt-get: error [USAGE] …` line (below);
  // this remembers which verb the error belongs to, for the hint.
  let failedVerb: string | undefined;
  // Help that commander sends to stderr waits here: `help instal` ends as one usage line instead.
  let heldErr = '';
  const quietErrors = (verb: string | undefined) => ({
    writeOut: (s: string) => io.stdout.write(s),
    writeErr: (s: string) => {
      heldErr += s;
    },
    outputError: () => {
      failedVerb = verb;
    },
  });
  const program = new Command('wapt-get')
    .description('WAPT-compatible package manager: build, sign, index, serve and install .wapt packages')
    .version(versionLine(), '-V, --version')
    .option('--json', 'machine-readable output on stdout')
    .option('-q, --quiet', 'print nothing but warnings and errors (for cron): the exit code tells the rest')
    .option('-v, --verbose', 'more diagnostics on stderr')
    .option('--no-color', 'no colour (NO_COLOR is honoured too)')
    .option('-c, --config <file>', 'wapt-get.ini to use (default: $WAPT_GET_CONFIG, /etc/wapt-get/wapt-get.ini)')
    .exitOverride()
    .configureOutput(quietErrors(undefined));

  for (const spec of commands) {
    const cmd = program.command(spec.name).description(spec.summary).configureOutput(quietErrors(spec.name));
    for (const alias of spec.aliases ?? []) cmd.alias(alias);
    for (const a of spec.args ?? []) cmd.argument(a);
    for (const o of spec.options ?? []) {
      const opt = new Option(o.flags, o.description);
      if (o.default !== undefined) opt.default(o.default);
      cmd.addOption(opt);
    }
    if (spec.help) cmd.addHelpText('after', '\n' + spec.help);
    cmd.action(async (...actionArgs: unknown[]) => {
      // commander passes positional args, then the options object, then the Command.
      const self = actionArgs[actionArgs.length - 1] as Command;
      const opts = actionArgs[actionArgs.length - 2] as Record<string, unknown>;
      const positional = actionArgs.slice(0, -2);
      const g = program.opts<GlobalOpts>();
      const out = makeOutput(g, io);
      const ctx: CommandContext = { out, configPath: g.config, env: io.env, cwd: io.cwd };
      void self;
      const code = await spec.run(ctx, positional, opts);
      exitCode = typeof code === 'number' ? code : EXIT.OK;
    });
  }

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    let failure: unknown = err;
    if (err instanceof CommanderError) {
      // --help and --version end here with exitCode 0; bare `wapt-get` prints the help and exits 2.
      if (err.exitCode === 0) return EXIT.OK;
      const askedFor = helpTopic(argv);
      if (err.code === 'commander.help' && askedFor === undefined) {
        io.stderr.write(heldErr);
        return EXIT.USAGE;
      }
      failure =
        err.code === 'commander.help'
          ? unknownVerbError(
              askedFor!,
              commands.flatMap((c) => [c.name, ...(c.aliases ?? [])]),
            )
          : usageError(err, failedVerb);
    }
    const g = program.opts<GlobalOpts>();
    // A usage error can stop commander before it reads a later --json: look for it ourselves.
    const json = Boolean(g.json) || (failure instanceof WaptError && failure.code === 'USAGE' && jsonAsked(argv));
    const out = makeOutput({ ...g, json }, io);
    const we = asWaptError(failure);
    if (out.json) {
      io.stdout.write(JSON.stringify({ error: { code: we.code, message: we.message, detail: safeDetail(we.detail) } }, null, 2) + '\n');
    } else {
      io.stderr.write(`${out.ce.red('wapt-get: error')} [${we.code}] ${we.message}\n`);
      io.stderr.write(`${out.ce.dim('  hint:')} ${we.hint}\n`);
      if (g.verbose && we.stack) io.stderr.write(out.ce.dim(we.stack) + '\n');
    }
    return we.exitCode;
  }
}

function jsonAsked(argv: string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

/** Details may hold captured output or buffers; keep JSON small and serialisable. */
function safeDetail(detail: Record<string, unknown>): Record<string, unknown> {
  const outObj: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(detail)) {
    if (Buffer.isBuffer(v)) continue;
    outObj[k] = typeof v === 'string' && v.length > 4000 ? v.slice(-4000) : v;
  }
  return outObj;
}
