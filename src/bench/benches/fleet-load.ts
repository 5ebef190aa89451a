// Load generation for the fleet benchmark: registered hosts with real RSA keys, signed
// reports made beforehand (signing is the hosts' work, not the server's), fired with a
// fixed concurrency over keep-alive HTTPS; latencies per request.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { request, type Agent } from 'node:https';
import { certificateToPem, generateRsaKeyPair, issueCertificate } from '../../crypto/index.js';
import { signReport, type SignedClaim } from '../../protocol/index.js';

export interface LoadHost {
  uuid: string;
  key: KeyObject;
  cert: X509Certificate;
}

export async function makeHosts(n: number, prefix: string): Promise<LoadHost[]> {
  const out: LoadHost[] = [];
  for (let i = 0; i < n; i++) {
    const uuid = `${prefix}-${String(i).padStart(6, '0')}`;
    const { privateKey, publicKey } = await generateRsaKeyPair(2048);
    out.push({ uuid, key: privateKey, cert: await issueCertificate({ commonName: uuid, publicKey, privateKey, codeSigning: false, days: 5 }) });
  }
  return out;
}

const PACKAGES = Array.from({ length: 20 }, (_, i) => ({
  package: `tis-app${i}`,
  version: '1.0-1',
  install_status: i === 7 ? 'ERROR' : 'OK',
  error_code: null,
}));

export function registerBody(h: LoadHost, seq: number) {
  return {
    host_uuid: h.uuid,
    certificate: certificateToPem(h.cert),
    claim: signReport('inventory', h.uuid, seq, { hostname: `pc-${h.uuid}`, packages: PACKAGES }, { key: h.key, chain: [h.cert] }),
  };
}

export function statusBodies(hosts: readonly LoadHost[], total: number, firstSeq: number): { claim: SignedClaim }[] {
  const out: { claim: SignedClaim }[] = [];
  for (let i = 0; i < total; i++) {
    const h = hosts[i % hosts.length]!;
    const seq = firstSeq + Math.floor(i / hosts.length);
    out.push({ claim: signReport('status', h.uuid, seq, { hostname: `pc-${h.uuid}`, packages: PACKAGES, events: [] }, { key: h.key, chain: [h.cert] }) });
  }
  return out;
}

export interface Target {
  port: number;
  ca: Buffer;
  agent: Agent;
}

export function httpsCall(t: Target, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; ms: number }> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: t.port,
        path,
        method,
        ca: t.ca,
        agent: t.agent,
        headers: { ...(data ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Sends every body (POST path) with `concurrency` in flight; order within a host is kept by sequence. */
export async function fire(
  t: Target,
  path: string,
  bodies: readonly unknown[],
  concurrency: number,
): Promise<{ seconds: number; latencies: number[]; refused: number }> {
  let next = 0;
  let refused = 0;
  const latencies: number[] = [];
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const r = await httpsCall(t, 'POST', path, bodies[next++]);
        latencies.push(r.ms);
        if (r.status !== 200) refused++;
      }
    }),
  );
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, latencies, refused };
}

export function p99(ms: number[]): number {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? 0;
}
