// Usage errors (an unknown verb or option, a missing argument) as one
// `wapt-get: error [USAGE] …` line like apt-get, instead of commander's full help.
import type { CommanderError } from 'commander';
import { didYouMean } from '../did-you-mean.js';
import { WaptError } from '../errors.js';

/** Words people type that commander would "correct" to the wrong verb. */
const MEANT: Record<string, string> = { version: '--version', '-version': '--version', help: '--help' };

const GLOBAL_HINT = '`wapt-get --help` lists every verb; `wapt-get install --help` (any verb) shows its options';

/** commander's message ("error: unknown command 'instal'\n(Did you mean install?)") as one line. */
function oneLine(message: string): string {
  return message
    .replace(/^error:\s*/i, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/\(Did you mean/g, '(did you mean');
}

export function usageError(err: CommanderError, verb: string | undefined): WaptError {
  let message = oneLine(err.message);
  const unknown = /^unknown command '([^']*)'/.exec(message);
  if (unknown && MEANT[unknown[1]!]) message = `unknown command '${unknown[1]}' (did you mean ${MEANT[unknown[1]!]}?)`;
  const prefix = verb ? `${verb}: ` : '';
  const hint = verb ? `\`wapt-get ${verb} --help\` lists its arguments and options` : GLOBAL_HINT;
  return new WaptError('USAGE', prefix + message, { detail: { commander_code: err.code, ...(verb ? { command: verb } : {}) }, hint });
}

/** `wapt-get help NAME`: the NAME asked for (commander answers an unknown one with the whole help). */
export function helpTopic(argv: string[]): string | undefined {
  const args = argv.slice(2).filter((a) => !a.startsWith('-'));
  return args[0] === 'help' ? args[1] : undefined;
}

export function unknownVerbError(name: string, verbs: string[]): WaptError {
  const near = MEANT[name] ?? didYouMean(name, verbs);
  return new WaptError('USAGE', `unknown command '${name}'${near ? ` (did you mean ${near}?)` : ''}`, {
    detail: { commander_code: 'commander.unknownCommand' },
    hint: GLOBAL_HINT,
  });
}
