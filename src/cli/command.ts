// The shape every verb declares. src/cli/program.ts assembles commander from the
// list in src/cli/commands/index.ts, so help text and behaviour never drift apart.
import type { Output } from './output.js';

export interface OptionSpec {
  /** commander flags, e.g. '--trusted <dir>' or '-f, --force'. */
  flags: string;
  description: string;
  default?: string | boolean | string[];
}

export interface CommandContext {
  out: Output;
  /** Path of wapt-get.ini given with --config (or the default), resolved lazily by commands that need it. */
  configPath: string | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** commander's parsed options: untyped by nature, each verb reads the keys it declared. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CommandOptions = Record<string, any>;

export interface CommandSpec {
  name: string;
  aliases?: string[];
  summary: string;
  /** commander argument syntax, e.g. ['<dir>'] or ['<packages...>'] or ['[names...]']. */
  args?: string[];
  options?: OptionSpec[];
  /** Extra help text printed after the options (examples, exit codes). */
  help?: string;
  /**
   * Positional args in declaration order (variadic ones as string[]), then the parsed options
   * (camelCased by commander). Returns the exit code (default 0). Throw WaptError on failure.
   */
  run(ctx: CommandContext, args: unknown[], opts: CommandOptions): Promise<number | void>;
}
