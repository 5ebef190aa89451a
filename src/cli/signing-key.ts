// Loads the signer (key + certificate chain) for build-package / sign / scanpackages.
import { readFile } from 'node:fs/promises';
import { WaptError } from '../errors.js';
import type { Signer } from '../package/index.js';
import type { CommandContext } from './command.js';

export const SIGNER_OPTIONS = [
  { flags: '-k, --key <pem>', description: 'signer private key (PEM, PKCS#8 encrypted or not); config: private_key' },
  { flags: '--cert <crt>', description: 'signer certificate (PEM; intermediates may follow); config: personal_certificate_path' },
  { flags: '--password-file <file>', description: 'file holding the key password (else $WAPT_KEY_PASSWORD, else a prompt on a TTY)' },
];

export interface SignerPaths {
  key?: string;
  cert?: string;
  passwordFile?: string;
}

export async function loadSigner(ctx: CommandContext, paths: SignerPaths): Promise<Signer> {
  if (!paths.key || !paths.cert) {
    throw new WaptError(
      'USAGE',
      'a signing key and certificate are needed: --key KEY.pem --cert CERT.crt (or private_key / personal_certificate_path in wapt-get.ini)',
    );
  }
  const { isEncryptedPem, loadPrivateKey, parseCertificates, resolvePassword } = await import('../crypto/index.js');
  let certText: Buffer;
  try {
    certText = await readFile(paths.cert);
  } catch (err) {
    throw new WaptError('IO_ERROR', `cannot read certificate ${paths.cert}`, { cause: err });
  }
  const certificates = parseCertificates(certText);
  if (certificates.length === 0) throw new WaptError('CERT_INVALID', `${paths.cert} holds no certificate`);
  // Only an encrypted key needs a password: never prompt for a plain one.
  const keyText = await readFile(paths.key, 'latin1').catch(() => '');
  const password = !isEncryptedPem(keyText)
    ? undefined
    : await resolvePassword({
        passwordFile: paths.passwordFile,
        env: ctx.env,
        prompt: true,
        what: `password for ${paths.key}`,
        onWarning: (m) => ctx.out.warn(m),
      });
  const key = await loadPrivateKey(paths.key, password, { onWarning: (m) => ctx.out.warn(m) });
  return { key, certificates };
}

/** SOURCE_DATE_EPOCH makes builds reproducible: fixed date, derived package_uuid. */
export async function signingDate(env: NodeJS.ProcessEnv): Promise<{ date: Date; reproducible: boolean }> {
  const { sourceDateEpoch } = await import('../package/index.js');
  const fixed = sourceDateEpoch(env);
  return fixed ? { date: fixed, reproducible: true } : { date: new Date(), reproducible: false };
}
