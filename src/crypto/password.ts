// Where a key password comes from, in a fixed order: --password-file, the
// environment, then an interactive no-echo prompt. Never from a command-line value
// (it would show in `ps` and shell history).
import { readFile, stat } from 'node:fs/promises';
import { WaptError } from '../errors.js';
import { warnIfGroupOrWorldReadable } from './keys.js';

export const KEY_PASSWORD_ENV = 'WAPT_KEY_PASSWORD';
export const CA_PASSWORD_ENV = 'WAPT_CA_PASSWORD';

export interface ResolvePasswordOptions {
  passwordFile?: string;
  env: NodeJS.ProcessEnv;
  /** Allow an interactive prompt (only used when stdin is a TTY). */
  prompt: boolean;
  /** What is asked, shown as the prompt: "password for /path/k.pem". */
  what: string;
  onWarning?: (m: string) => void;
  /** Environment variable to read; WAPT_KEY_PASSWORD unless told (WAPT_CA_PASSWORD for a CA key). */
  envVar?: string;
  /** Ask twice and require both answers to match (for a new key). */
  confirm?: boolean;
  /** Streams for the prompt; default process.stdin / process.stderr. */
  input?: NodeJS.ReadStream;
  output?: NodeJS.WritableStream;
}

export async function resolvePassword(opts: ResolvePasswordOptions): Promise<string | undefined> {
  if (opts.passwordFile !== undefined) return readPasswordFile(opts.passwordFile, opts.onWarning);
  const fromEnv = opts.env[opts.envVar ?? KEY_PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const input = opts.input ?? process.stdin;
  if (!opts.prompt || !input.isTTY) return undefined;
  const output = opts.output ?? process.stderr;
  const first = await promptHidden(`${opts.what.charAt(0).toUpperCase()}${opts.what.slice(1)}: `, input, output);
  if (opts.confirm) {
    const again = await promptHidden('Repeat the password: ', input, output);
    if (again !== first) throw new WaptError('USAGE', 'the two passwords differ');
  }
  return first;
}

export interface NewKeyPasswordOptions {
  /** --no-password: write the key unencrypted (throw-away keys for tests and demos). */
  noPassword: boolean;
  passwordFile?: string;
  env: NodeJS.ProcessEnv;
  what: string;
  onWarning: (m: string) => void;
  input?: NodeJS.ReadStream;
  output?: NodeJS.WritableStream;
}

/** The password protecting a key about to be created; '' only with --no-password. */
export async function resolveNewKeyPassword(opts: NewKeyPasswordOptions): Promise<string> {
  if (opts.noPassword) {
    if (opts.passwordFile !== undefined) throw new WaptError('USAGE', '--no-password and --password-file contradict each other');
    opts.onWarning('--no-password: the private key is written UNENCRYPTED; use it only for tests and demos, never for a real repository');
    return '';
  }
  const password = await resolvePassword({ ...opts, prompt: true, confirm: true });
  if (password === undefined) {
    throw new WaptError(
      'USAGE',
      `a password is needed to encrypt the new key: give --password-file FILE, set ${KEY_PASSWORD_ENV}, or run on a terminal to be prompted (--no-password writes an unencrypted throw-away key)`,
    );
  }
  if (password === '') throw new WaptError('USAGE', 'the password is empty; pass --no-password if you really want an unencrypted key');
  return password;
}

/** The first line of the file (a trailing newline is not part of the password). */
export async function readPasswordFile(path: string, onWarning?: (m: string) => void): Promise<string> {
  try {
    const st = await stat(path);
    warnIfGroupOrWorldReadable(path, st.mode, onWarning);
    const text = await readFile(path, 'utf8');
    return text.replace(/\r?\n[\s\S]*$/, '');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new WaptError('IO_ERROR', `cannot read password file ${path}: ${e.code ?? e.message}`, { cause: err, detail: { path } });
  }
}

/** Reads one line from a TTY in raw mode without echoing it. Ctrl-C aborts. */
export function promptHidden(question: string, input: NodeJS.ReadStream, output: NodeJS.WritableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(question);
    const wasRaw = Boolean(input.isRaw);
    input.setRawMode?.(true);
    input.resume();
    input.setEncoding('utf8');
    let value = '';
    const finish = (rest: string, err?: Error) => {
      input.off('data', onData);
      // Typed-ahead input (a pasted confirmation) belongs to the next prompt.
      if (rest) input.unshift(rest);
      input.setRawMode?.(wasRaw);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      const chars = [...chunk];
      for (let i = 0; i < chars.length; i++) {
        const ch = chars[i]!;
        const rest = () =>
          chars
            .slice(i + 1)
            .join('')
            .replace(/^\n/, ''); // CRLF: skip the LF
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(rest());
        if (ch === '\u0003') return finish('', new WaptError('USAGE', 'password prompt interrupted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}
