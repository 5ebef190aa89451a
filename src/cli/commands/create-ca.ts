// wapt-get create-ca: a self-signed CA (W-D6) to issue signing certificates from.
import { resolve } from 'node:path';
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { NEW_KEY_OPTIONS } from '../key-options.js';

export const command: CommandSpec = {
  name: 'create-ca',
  summary: 'create a certificate authority: an encrypted private key and a self-signed CA certificate',
  options: [
    { flags: '--cn <name>', description: 'common name of the CA, e.g. "Example Corp WAPT CA" (required)' },
    { flags: '--out-dir <dir>', description: 'directory to write <name>.pem (key, mode 0600) and <name>.crt into (required)' },
    ...NEW_KEY_OPTIONS,
  ],
  help: `
Copy <name>.crt into the clients' trusted directory (ssl/); keep <name>.pem offline.
Then issue signing certificates with:
  wapt-get create-keycert --cn packager --out-dir DIR --codesigning --ca-cert <name>.crt --ca-key <name>.pem`,
  async run(ctx, _args, opts) {
    const { createKeyCert, describeKeyCert, keyCertJson, parseDays, parseKeySize, resolveNewKeyPassword } = await import('../../crypto/index.js');
    if (!opts.cn) throw new WaptError('USAGE', 'create-ca needs --cn NAME');
    if (!opts.outDir) throw new WaptError('USAGE', 'create-ca needs --out-dir DIR');
    const keySize = parseKeySize(opts.keySize);
    const days = parseDays(opts.days);
    const password = await resolveNewKeyPassword({
      noPassword: opts.password === false,
      passwordFile: opts.passwordFile ? resolve(ctx.cwd, opts.passwordFile) : undefined,
      env: ctx.env,
      what: `password for the new CA key "${opts.cn}"`,
      onWarning: (m) => ctx.out.warn(m),
    });
    ctx.out.info(`generating an RSA ${keySize} key…`);
    const summary = await createKeyCert({
      kind: 'ca',
      commonName: String(opts.cn),
      outDir: resolve(ctx.cwd, opts.outDir),
      organization: opts.organization,
      keySize,
      days,
      codeSigning: false,
      password,
      force: Boolean(opts.force),
    });
    ctx.out.result(keyCertJson(summary), () => ['created CA certificate', ...describeKeyCert(summary).map((l) => `  ${l}`)]);
  },
};
