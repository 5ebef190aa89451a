// The certificate a TLS server presents, fetched WITHOUT trusting it, so that an admin
// can compare its fingerprint out of band before pinning it (get-server-certificate,
// enable-check-certificate). Nothing is sent over the connection.
import { X509Certificate } from 'node:crypto';
import { connect, type PeerCertificate, type DetailedPeerCertificate } from 'node:tls';
import { WaptError } from '../../errors.js';
import { derSha256 } from './verify-cert.js';

export interface PeerCertificateInfo {
  host: string;
  port: number;
  /** Leaf first, then what the server sent after it. */
  chain: X509Certificate[];
  /** SHA-256 of the leaf's DER, lowercase hex (the pin verify_cert compares). */
  fingerprint: string;
}

export async function fetchPeerCertificate(url: string, timeoutMs = 15_000): Promise<PeerCertificateInfo> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new WaptError('USAGE', `${JSON.stringify(url)} is not a URL (give https://host[:port])`);
  }
  if (u.protocol !== 'https:') throw new WaptError('INSECURE_URL', `${u.origin}: only an https:// server has a certificate to fetch`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 443);
  const peer = await new Promise<DetailedPeerCertificate>((resolve, reject) => {
    // Deliberately unverified: the point is to show the certificate before anyone trusts it.
    const sock = connect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, rejectUnauthorized: false });
    const timer = setTimeout(() => sock.destroy(new WaptError('TIMEOUT', `${u.origin} did not complete a TLS handshake in ${timeoutMs} ms`)), timeoutMs);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = sock.getPeerCertificate(true);
      sock.end();
      resolve(cert);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err instanceof WaptError ? err : new WaptError('NETWORK_ERROR', `${u.origin}: ${err.message}`, { cause: err }));
    });
  });
  if (!peer || !peer.raw) throw new WaptError('TLS_ERROR', `${u.origin} presented no certificate`);
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let c: PeerCertificate | undefined = peer; c && c.raw && !seen.has(c.fingerprint256); c = (c as DetailedPeerCertificate).issuerCertificate) {
    seen.add(c.fingerprint256);
    chain.push(new X509Certificate(c.raw));
  }
  return { host, port, chain, fingerprint: derSha256(peer.raw) };
}

/** "AB:CD…", "abcd…" or "sha256:abcd…" → lowercase hex. */
export function normalizeFingerprint(text: string): string {
  return text
    .trim()
    .replace(/^sha256[:=]/i, '')
    .replace(/[:\s]/g, '')
    .toLowerCase();
}
