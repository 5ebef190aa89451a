// Options shared by the verbs that create a key and a certificate (create-ca, create-keycert).
import type { OptionSpec } from './command.js';

export const NEW_KEY_OPTIONS: OptionSpec[] = [
  { flags: '--organization <org>', description: 'organization (O=) of the subject' },
  { flags: '--days <n>', description: 'validity in days', default: '3650' },
  { flags: '--key-size <bits>', description: 'RSA key size: 2048, 3072 or 4096', default: '2048' },
  { flags: '--password-file <file>', description: 'file holding the new key password (else $WAPT_KEY_PASSWORD, else a prompt on a TTY)' },
  { flags: '--no-password', description: 'write the key UNENCRYPTED (throw-away keys for tests and demos only)' },
  { flags: '--force', description: 'replace an existing key and certificate of the same name' },
];
