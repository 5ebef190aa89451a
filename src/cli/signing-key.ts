// Loads the signer (key + certificate chain) for build-package / sign / scanpackages.
import { readFile } from 'node:fs/promises';
import { WaptError } from '../errors.js';
import type { Signer } from '../package/index.js';
import type { CommandContext } from './command.js';

/** CI secrets: the key (and optionally the certificate) as PEM text in the environment, never a file on the runner. */
export const KEY_PEM_ENV = 'WAPT_KEY_PEM';
export const CERT_PEM_ENV = 'WAPT_CERT_PEM';

export const SIGNER_OPTIONS = [
  { flags: '-k, --key <pem>', description: `signer private key (PEM, PKCS#8 encrypted or not); else $${KEY_PEM_ENV} (the PEM text), else private_key` },
  { flags: '--cert <crt>', description: `signer certificate (PEM; intermediates may follow); else $${CERT_PEM_ENV}, else personal_certificate_path` },
  { flags: '--password-file <file>', description: 'file holding the key password (else $WAPT_KEY_PASSWORD, else a prompt on a TTY)' },
];

export interface SignerPaths {
  key?: string;
  cert?: string;
  passwordFile?: string;
  /** Given with --key / --cert (they beat $WAPT_KEY_PEM / $WAPT_CERT_PEM; the config's paths do not). */
  keyFromFlag?: boolean;
  certFromFlag?: boolean;
}

export async function loadSigner(ctx: CommandContext, paths: SignerPaths): Promise<Signer> {
  // a --key / --cert given on the command line wins over the environment
  const keyPem = paths.keyFromFlag || !ctx.env[KEY_PEM_ENV] ? undefined : ctx.env[KEY_PEM_ENV];
  const certPem = paths.certFromFlag || !ctx.env[CERT_PEM_ENV] ? undefined : ctx.env[CERT_PEM_ENV];
  if ((!paths.key && !keyPem) || (!paths.cert && !certPem)) {
    throw new WaptError(
      'USAGE',
      `a signing key and certificate are needed: --key KEY.pem --cert CERT.crt (or $${KEY_PEM_ENV} / $${CERT_PEM_ENV}, or private_key / personal_certificate_path in wapt-get.ini)`,
    );
  }
  const { isEncryptedPem, loadPrivateKey, parsePrivateKey, parseCertificates, resolvePassword } = await import('../crypto/index.js');
  let certText: Buffer;
  const certSource = certPem ? `$${CERT_PEM_ENV}` : paths.cert!;
  try {
    certText = certPem ? Buffer.from(certPem) : await readFile(paths.cert!);
  } catch (err) {
    throw new WaptError('IO_ERROR', `cannot read certificate ${certSource}`, { cause: err });
  }
  const certificates = parseCertificates(certText);
  if (certificates.length === 0) throw new WaptError('CERT_INVALID', `${certSource} holds no certificate`);
  // Only an encrypted key needs a password: never prompt for a plain one.
  const keyText = keyPem ?? (await readFile(paths.key!, 'latin1').catch(() => ''));
  const keySource = keyPem ? `$${KEY_PEM_ENV}` : paths.key!;
  const password = !isEncryptedPem(keyText)
    ? undefined
    : await resolvePassword({
        passwordFile: paths.passwordFile,
        env: ctx.env,
        prompt: true,
        what: `password for ${keySource}`,
        onWarning: (m) => ctx.out.warn(m),
      });
  // the PEM from the environment is parsed in memory: it never touches the disk, and messages name only the variable
  const key = keyPem ? parsePrivateKey(keyPem, password, keySource) : await loadPrivateKey(paths.key!, password, { onWarning: (m) => ctx.out.warn(m) });
  return { key, certificates };
}

/** SOURCE_DATE_EPOCH makes builds reproducible: fixed date, derived package_uuid. */
export async function signingDate(env: NodeJS.ProcessEnv): Promise<{ date: Date; reproducible: boolean }> {
  const { sourceDateEpoch } = await import('../package/index.js');
  const fixed = sourceDateEpoch(env);
  return fixed ? { date: fixed, reproducible: true } : { date: new Date(), reproducible: false };
}
