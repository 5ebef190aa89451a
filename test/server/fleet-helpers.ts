// Shared by the fleet tests: real RSA host keys, signed claims, an HTTPS client that can
// present a client certificate, and a serve with admin tokens in a temp dir.
import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { certificateToPem, generateRsaKeyPair, issueCertificate, privateKeyToEncryptedPem } from '../../src/crypto/index.js';
import { signReport, type SignedClaim } from '../../src/protocol/index.js';
import type { RunningServer } from '../../src/server/serve.js';

export interface Host {
  uuid: string;
  key: KeyObject;
  cert: X509Certificate;
  pem: string;
  keyPem: string;
}

export async function makeHost(uuid: string, cn: string = uuid): Promise<Host> {
  const { privateKey, publicKey } = await generateRsaKeyPair(2048);
  const cert = await issueCertificate({ commonName: cn, publicKey, privateKey, codeSigning: false, days: 30 });
  return { uuid, key: privateKey, cert, pem: certificateToPem(cert), keyPem: privateKeyToEncryptedPem(privateKey, '') };
}

export const PKGS = [
  { package: 'tis-ok', version: '1-1', install_status: 'OK', error_code: null, last_audit_status: 'OK' },
  { package: 'tis-bad', version: '2-1', install_status: 'ERROR', error_code: 'ERR_EXIT_CODE', last_audit_status: null },
];

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function inventoryClaim(h: Host, seq: number, o: { now?: Date; packages?: unknown[] } = {}): SignedClaim {
  return signReport('inventory', h.uuid, seq, { hostname: `pc-${h.uuid.slice(0, 6)}`, packages: o.packages ?? PKGS }, { key: h.key, chain: [h.cert] }, o.now);
}

export function statusClaim(h: Host, seq: number, o: { packages?: unknown[]; extra?: Record<string, unknown> } = {}): SignedClaim {
  return signReport(
    'status',
    h.uuid,
    seq,
    { hostname: `pc-${h.uuid.slice(0, 6)}`, packages: o.packages ?? PKGS, ...(o.extra ?? {}) },
    { key: h.key, chain: [h.cert] },
  );
}

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface CallOptions {
  body?: unknown;
  token?: string;
  basic?: string;
  /** Client certificate (PEM) and key (PEM). */
  cert?: string;
  key?: string;
  headers?: Record<string, string>;
}

export function call(srv: RunningServer, ca: Buffer, method: string, path: string, o: CallOptions = {}): Promise<Res> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  let body: string | undefined;
  if (o.body !== undefined) {
    body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    headers['content-type'] ??= 'application/json';
  }
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.basic) headers.authorization = `Basic ${Buffer.from(`anyone:${o.basic}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, path, method, ca, agent: false, headers, cert: o.cert, key: o.key }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
