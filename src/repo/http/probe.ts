// One conditional GET without undici (issue 12 §2, the warm `update`): node:https, the
// same TLS trust as every other request (tlsOptions: CA bundle, client certificate; a
// pinned leaf compared before the answer is believed), no proxy, no redirect, no retry.
// verify_cert=0 is never probed: the full path says, each time, that nothing is checked.
// It answers one question, "is it still a 304?"; anything else (200, a redirect, an
// error, a timeout) is 'other', and the caller then does the full request the normal way.
import { request } from 'node:https';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { HttpOptions } from './client.js';
import { tlsOptions } from './dispatcher.js';
import { derSha256, loadPin } from './verify-cert.js';

export interface Validators {
  etag?: string | null;
  lastModified?: string | null;
}

export function probeNotModified(url: string, v: Validators, o: HttpOptions): Promise<'not-modified' | 'other'> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: 'not-modified' | 'other') => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    try {
      const u = new URL(url);
      const host = u.hostname.replace(/^\[|\]$/g, ''); // an IPv6 literal without its brackets
      if (u.protocol !== 'https:' || o.verifyCert.kind === 'off' || o.proxy || u.username || u.password || (!v.etag && !v.lastModified)) return done('other');
      const pin = o.verifyCert.kind === 'pinned' ? loadPin(o.verifyCert.path) : null;
      const headers: Record<string, string> = { 'user-agent': o.userAgent, 'accept-encoding': 'identity' };
      if (v.etag) headers['if-none-match'] = v.etag;
      if (v.lastModified) headers['if-modified-since'] = v.lastModified;
      const req = request(
        {
          host,
          port: u.port || 443,
          path: `${u.pathname}${u.search}`,
          method: 'GET',
          headers,
          ...tlsOptions(o),
          ...(isIP(host) ? {} : { servername: u.hostname }),
          agent: false,
          timeout: Math.max(o.connectTimeoutMs, o.readTimeoutMs),
        },
        (res) => {
          done(res.statusCode === 304 ? 'not-modified' : 'other');
          res.destroy(); // a changed index is fetched by the full path, not read twice
        },
      );
      req.on('socket', (s) => {
        if (!pin) return;
        s.once('secureConnect', () => {
          const raw = (s as TLSSocket).getPeerCertificate?.(false)?.raw;
          if (!raw || derSha256(raw) !== pin) {
            done('other');
            req.destroy();
          }
        });
      });
      req.on('timeout', () => {
        done('other');
        req.destroy();
      });
      req.on('error', () => done('other'));
      req.end();
    } catch {
      done('other');
    }
  });
}
