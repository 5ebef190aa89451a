// The single place that loads @peculiar/x509, and only on demand: loading it (and
// reflect-metadata, tsyringe, the asn1 schemas) costs ~0.1 s, which every command
// used to pay although only building certificates and parsing CRLs need it.
// Certificate parsing and verification use node:crypto's X509Certificate.
// Its v2 depends on tsyringe, which refuses to load unless the `reflect-metadata`
// polyfill is installed first; the library is then loaded with require(): a static
// import could be evaluated before the polyfill (jest links CommonJS imports early).
// require() is synchronous, so synchronous callers (TrustStore.fromCertificates with
// CRLs) can load it too.
import { webcrypto } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as X509 from '@peculiar/x509';

const require = createRequire(import.meta.url);
let lib: typeof X509 | undefined;

/** @peculiar/x509, loaded (and given node's WebCrypto) on the first call. */
export function loadX509(): typeof X509 {
  if (!lib) {
    require('reflect-metadata');
    const loaded = require('@peculiar/x509') as typeof X509;
    loaded.cryptoProvider.set(webcrypto as unknown as Parameters<typeof loaded.cryptoProvider.set>[0]);
    lib = loaded;
  }
  return lib;
}

/** Whether loadX509() ran in this process (tests check that hot paths never load it). */
export function isX509Loaded(): boolean {
  return lib !== undefined;
}

/**
 * The library as a lazy object: `x509.Name` loads it at the first property access.
 * Kept for callers written against the former eager export (test helpers).
 */
export const x509: typeof X509 = new Proxy({} as typeof X509, {
  get: (_target, prop) => Reflect.get(loadX509(), prop),
  has: (_target, prop) => Reflect.has(loadX509(), prop),
});
