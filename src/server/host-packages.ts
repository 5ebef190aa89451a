// F1A: `serve` hands a host package (`/wapt-host/<uuid>.wapt`, W-F4) only to the host it
// names: the client certificate of the TLS connection must be the one registered for that
// UUID. An admin with the view role may fetch any. Without --data-dir there is no registry
// and serve stays a plain file server (a demo: the CLI warns).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { fingerprintSha256 } from '../crypto/index.js';
import { ApiError, type Management } from './registry/index.js';
import { hostKey } from './store/index.js';

export function hostPackageGate(m: Management): (req: IncomingMessage, rest: string) => Promise<void> {
  return async (req, rest) => {
    const name = rest.split('/')[0] ?? '';
    const key = hostKey(name.replace(/\.wapt$/i, ''));
    const peer = (req.socket as TLSSocket).getPeerX509Certificate?.();
    if (key && peer) {
      const rec = await m.store.getHost(key);
      if (rec && rec.fingerprint === fingerprintSha256(peer)) return;
    }
    if (m.auth.configured && (req.headers.authorization || peer)) {
      const who = await m.auth.identify(req).catch(() => null);
      if (who) return;
    }
    throw new ApiError(403, 'HOST_PACKAGE_FORBIDDEN', 'host packages are served only to the host they name (its registered certificate over TLS)');
  };
}
