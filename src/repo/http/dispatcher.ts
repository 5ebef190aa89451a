// Builds the undici dispatchers for one HttpClient: TLS trust per verify_cert
// mode, mTLS client certificate, connect/read timeouts, optional proxy.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import type * as Undici from 'undici';
import type { Agent, ProxyAgent, buildConnector, Dispatcher } from 'undici';
import { WaptError } from '../../errors.js';
import { lazyRequire } from '../../lazy-require.js';
import { bypassesProxy } from './proxy.js';
import { derSha256, loadPin, type VerifyCertMode } from './verify-cert.js';

// undici (~50 ms to load) is required on the first HTTP client, not at start-up: verbs
// that never download (scanpackages, build-package, the rescan of issue 12 §4) skip it.
const lib = lazyRequire<typeof Undici>('undici');

export interface DispatcherOptions {
  verifyCert: VerifyCertMode;
  proxy?: string;
  /** no_proxy list (see proxy.ts): matching hosts are reached directly. */
  noProxy?: string;
  clientCert?: string;
  clientKey?: string;
  connectTimeoutMs: number;
  /** Time to the response headers, and longest silence while reading the body. */
  readTimeoutMs: number;
}

/** TLS settings of a connection per verify_cert and the client certificate (also used by probe.ts). */
export function tlsOptions(o: DispatcherOptions): ConnectionOptions {
  const tls: ConnectionOptions = {};
  const mode = o.verifyCert;
  if (mode.kind === 'off' || mode.kind === 'pinned') tls.rejectUnauthorized = false; // pinned: checked by withPin
  if (mode.kind === 'ca-bundle') tls.ca = readFileSync(mode.path);
  if (o.clientCert || o.clientKey) {
    if (!o.clientCert || !o.clientKey) {
      throw new WaptError('CONFIG_INVALID', 'client_certificate and client_private_key must be given together', {
        detail: { key: o.clientCert ? 'client_private_key' : 'client_certificate' },
      });
    }
    tls.cert = readFileSync(o.clientCert);
    tls.key = readFileSync(o.clientKey);
  }
  return tls;
}

/**
 * Pinning: chain and hostname checks are off (the pinned cert may be
 * self-signed or issued for another name); the leaf's DER SHA-256 must equal
 * the pin, checked on every new TLS connection before any byte is sent.
 */
function withPin(inner: buildConnector.connector, pin: string): buildConnector.connector {
  return (opts, callback) => {
    inner(opts, (err, socket) => {
      if (err || !socket) return callback(err ?? new Error('no socket'), null);
      if (opts.protocol !== 'https:') return callback(null, socket);
      const raw = (socket as TLSSocket).getPeerCertificate?.(false)?.raw;
      const got = raw ? derSha256(raw) : '(none)';
      if (got !== pin) {
        socket.destroy();
        return callback(
          new WaptError('TLS_PIN_MISMATCH', `server certificate of ${opts.hostname} does not match the pinned certificate`, {
            detail: { host: opts.hostname, expected: pin, got },
          }),
          null,
        );
      }
      callback(null, socket);
    });
  };
}

export interface Dispatchers {
  forUrl(url: URL): Dispatcher;
  close(): Promise<void>;
}

export function makeDispatchers(o: DispatcherOptions): Dispatchers {
  const tls = tlsOptions(o);
  const pin = o.verifyCert.kind === 'pinned' ? loadPin(o.verifyCert.path) : undefined;
  // No TLS session reuse when pinning: every connection shows its certificate.
  const connectOpts = { ...tls, timeout: o.connectTimeoutMs, ...(pin ? { maxCachedSessions: 0 } : {}) };
  const wrap = (c: buildConnector.connector) => (pin ? withPin(c, pin) : c);
  const timeouts = { headersTimeout: o.readTimeoutMs, bodyTimeout: o.readTimeoutMs };
  const { Agent: AgentClass, ProxyAgent: ProxyAgentClass, buildConnector: connector } = lib();
  const direct: Agent = new AgentClass({ ...timeouts, connect: wrap(connector(connectOpts)) });
  let proxied: ProxyAgent | undefined;
  if (o.proxy) {
    proxied = new ProxyAgentClass({ uri: o.proxy, ...timeouts, requestTls: connectOpts, proxyTls: { timeout: o.connectTimeoutMs } });
    if (pin) {
      // ProxyAgent offers no hook for the TLS connection made through the
      // tunnel; wrap its private endpoint connector, and fail closed if gone.
      const sym = Object.getOwnPropertySymbols(proxied).find((s) => s.description === 'connect endpoint function');
      if (!sym) throw new WaptError('INTERNAL', 'cannot pin certificates through this undici ProxyAgent');
      const rec = proxied as unknown as Record<symbol, buildConnector.connector>;
      rec[sym] = wrap(rec[sym]);
    }
  }
  return {
    forUrl: (url) => (proxied && !bypassesProxy(url, o.noProxy) ? proxied : direct),
    async close() {
      await Promise.all([direct.close(), proxied?.close()]);
    },
  };
}
