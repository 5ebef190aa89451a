// wapt-get create-keycert: a signing key and certificate, self-signed or issued by a CA.
import { resolve } from 'node:path';
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { NEW_KEY_OPTIONS } from '../key-options.js';

export const command: CommandSpec = {
  name: 'create-keycert',
  summary: 'create a signing key and certificate (code-signing with --codesigning), self-signed or issued by a CA',
  options: [
    { flags: '--cn <name>', description: 'common name of the certificate, e.g. the publisher name (required)' },
    { flags: '--out-dir <dir>', description: 'directory to write <name>.pem (key, mode 0600) and <name>.crt into (required)' },
    { flags: '--codesigning', description: 'a code-signing certificate (may sign packages with setup code, W-D5); else a "deployer" certificate' },
    { flags: '--ca-cert <file>', description: 'CA certificate that issues this one (with --ca-key); else self-signed' },
    { flags: '--ca-key <file>', description: 'private key of --ca-cert' },
    { flags: '--ca-password-file <file>', description: 'file holding the CA key password (else $WAPT_CA_PASSWORD, else a prompt on a TTY)' },
    ...NEW_KEY_OPTIONS,
  ],
  help: `
Examples:
  wapt-get create-keycert --cn packager --out-dir ~/wapt --codesigning --ca-cert ca.crt --ca-key ca.pem
  WAPT_KEY_PASSWORD=… wapt-get create-keycert --cn deployer --out-dir ~/wapt --ca-cert ca.crt --ca-key ca.pem`,
  async run(ctx, _args, opts) {
    const {
      CA_PASSWORD_ENV,
      createKeyCert,
      describeKeyCert,
      keyCertJson,
      isKeyFileEncrypted,
      loadIssuer,
      parseDays,
      parseKeySize,
      resolveNewKeyPassword,
      resolvePassword,
    } = await import('../../crypto/index.js');
    if (!opts.cn) throw new WaptError('USAGE', 'create-keycert needs --cn NAME');
    if (!opts.outDir) throw new WaptError('USAGE', 'create-keycert needs --out-dir DIR');
    if (Boolean(opts.caCert) !== Boolean(opts.caKey)) throw new WaptError('USAGE', '--ca-cert and --ca-key go together');
    const keySize = parseKeySize(opts.keySize);
    const days = parseDays(opts.days);
    const warn = (m: string) => ctx.out.warn(m);

    let issuer;
    if (opts.caCert) {
      const caKey = resolve(ctx.cwd, opts.caKey);
      let caPassword: string | undefined;
      if (await isKeyFileEncrypted(caKey)) {
        caPassword = await resolvePassword({
          passwordFile: opts.caPasswordFile ? resolve(ctx.cwd, opts.caPasswordFile) : undefined,
          env: ctx.env,
          envVar: CA_PASSWORD_ENV,
          prompt: true,
          what: `password for the CA key ${caKey}`,
          onWarning: warn,
        });
        if (caPassword === undefined) {
          throw new WaptError(
            'USAGE',
            `the CA key ${caKey} is encrypted: give --ca-password-file FILE, set ${CA_PASSWORD_ENV}, or run on a terminal to be prompted`,
          );
        }
      }
      issuer = await loadIssuer(resolve(ctx.cwd, opts.caCert), caKey, caPassword, warn).catch((err: unknown) => {
        // the generic hint names WAPT_KEY_PASSWORD: for the CA key it is the CA's password that was wrong
        if (err instanceof WaptError && err.code === 'KEY_PASSWORD_WRONG') {
          throw new WaptError('KEY_PASSWORD_WRONG', err.message, {
            cause: err,
            detail: err.detail,
            hint: `give the CA key's password: --ca-password-file FILE, ${CA_PASSWORD_ENV}, or the prompt on a terminal`,
          });
        }
        throw err;
      });
    }
    const password = await resolveNewKeyPassword({
      noPassword: opts.password === false,
      passwordFile: opts.passwordFile ? resolve(ctx.cwd, opts.passwordFile) : undefined,
      env: ctx.env,
      what: `password for the new key "${opts.cn}"`,
      onWarning: warn,
    });
    ctx.out.info(`generating an RSA ${keySize} key…`);
    const summary = await createKeyCert({
      kind: 'leaf',
      commonName: String(opts.cn),
      outDir: resolve(ctx.cwd, opts.outDir),
      organization: opts.organization,
      keySize,
      days,
      codeSigning: Boolean(opts.codesigning),
      password,
      issuer,
      force: Boolean(opts.force),
    });
    const kind = summary.codeSigning ? 'code-signing' : 'deployer (no code signing)';
    ctx.out.result(keyCertJson(summary), () => [`created ${kind} certificate`, ...describeKeyCert(summary).map((l) => `  ${l}`)]);
  },
};
