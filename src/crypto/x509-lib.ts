// The single place that loads @peculiar/x509. Its v2 depends on tsyringe, which
// refuses to load unless the `reflect-metadata` polyfill is installed first; the
// library is then loaded with require(): a static import could be evaluated before
// the polyfill (jest links CommonJS imports early).
import { webcrypto } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as X509 from '@peculiar/x509';

const require = createRequire(import.meta.url);
require('reflect-metadata');
export const x509: typeof X509 = require('@peculiar/x509');

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
