import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { resolvePassword, CA_PASSWORD_ENV } from '../../src/crypto/index.js';
import { tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

function pwFile(content: string, mode = 0o600): string {
  const p = join(tmp.dir, 'pw');
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

/** A stand-in terminal: a stream that claims to be a TTY and records raw-mode switches. */
function fakeTty(keys: string): NodeJS.ReadStream & { rawModes: boolean[] } {
  const s = new PassThrough() as unknown as NodeJS.ReadStream & { rawModes: boolean[] };
  s.isTTY = true;
  s.rawModes = [];
  (s as unknown as { setRawMode: (m: boolean) => void }).setRawMode = (m: boolean) => void s.rawModes.push(m);
  setImmediate(() => (s as unknown as PassThrough).write(keys));
  return s;
}

describe('resolvePassword: --password-file, then the environment, then a TTY prompt', () => {
  test('the password file wins over the environment; its trailing newline is not part of it', async () => {
    const p = await resolvePassword({ passwordFile: pwFile('from-file\n'), env: { WAPT_KEY_PASSWORD: 'from-env' }, prompt: false, what: 'k' });
    expect(p).toBe('from-file');
  });

  test('only the first line of the file counts (CRLF too)', async () => {
    expect(await resolvePassword({ passwordFile: pwFile('one\r\ntwo\n'), env: {}, prompt: false, what: 'k' })).toBe('one');
  });

  test('a password file readable by others is used but warned about', async () => {
    const warnings: string[] = [];
    await resolvePassword({ passwordFile: pwFile('x', 0o640), env: {}, prompt: false, what: 'k', onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringContaining('0640')]);
  });

  test('a missing password file → IO_ERROR naming it', async () => {
    const missing = join(tmp.dir, 'nope');
    await expect(resolvePassword({ passwordFile: missing, env: {}, prompt: false, what: 'k' })).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringContaining(missing),
    });
  });

  test('WAPT_KEY_PASSWORD is used when there is no file', async () => {
    expect(await resolvePassword({ env: { WAPT_KEY_PASSWORD: 'env-pw' }, prompt: false, what: 'k' })).toBe('env-pw');
  });

  test('envVar selects another variable (WAPT_CA_PASSWORD for a CA key)', async () => {
    const env = { WAPT_KEY_PASSWORD: 'leaf', [CA_PASSWORD_ENV]: 'ca' };
    expect(await resolvePassword({ env, envVar: CA_PASSWORD_ENV, prompt: false, what: 'k' })).toBe('ca');
  });

  test('nothing available and no TTY → undefined', async () => {
    const input = new PassThrough() as unknown as NodeJS.ReadStream;
    expect(await resolvePassword({ env: {}, prompt: true, what: 'k', input })).toBeUndefined();
  });

  test('on a TTY: prompts on the output without echo, backspace edits, raw mode restored', async () => {
    const input = fakeTty('se\u007fcret\r');
    const output = new PassThrough();
    let shown = '';
    output.on('data', (b: Buffer) => (shown += b.toString()));
    expect(await resolvePassword({ env: {}, prompt: true, what: 'password for k.pem', input, output })).toBe('scret');
    expect(shown).toBe('Password for k.pem: \n');
    expect(input.rawModes).toEqual([true, false]);
  });

  test('prompt: false never prompts, even on a TTY', async () => {
    expect(await resolvePassword({ env: {}, prompt: false, what: 'k', input: fakeTty('x\r') })).toBeUndefined();
  });

  test('confirm: the same answer twice, typed ahead in one chunk, is accepted', async () => {
    expect(await resolvePassword({ env: {}, prompt: true, confirm: true, what: 'k', input: fakeTty('same\r\nsame\r'), output: new PassThrough() })).toBe(
      'same',
    );
  });

  test('confirm: two different answers → USAGE', async () => {
    const input = fakeTty('one\rtwo\r');
    await expect(resolvePassword({ env: {}, prompt: true, confirm: true, what: 'k', input, output: new PassThrough() })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });

  test('Ctrl-C at the prompt → USAGE (interrupted)', async () => {
    await expect(resolvePassword({ env: {}, prompt: true, what: 'k', input: fakeTty('ab\u0003'), output: new PassThrough() })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });
});
