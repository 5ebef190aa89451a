// The single place that loads @peculiar/x509. Its v2 depends on tsyringe, which
// refuses to load unless a Reflect metadata polyfill (normally `reflect-metadata`)
// is installed first. That package is not a dependency here, so reflect-shim.ts
// installs a minimal one, and the library is then loaded with require(): a static
// import could be evaluated before the shim (jest links CommonJS imports early).
import './reflect-shim.js';
import { webcrypto } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as X509 from '@peculiar/x509';

const require = createRequire(import.meta.url);
export const x509: typeof X509 = require('@peculiar/x509');

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
