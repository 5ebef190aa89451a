// The agent endpoints (open to hosts; every request signed by the host key):
//   POST /api/v1/register {host_uuid, certificate, token?, claim}  signed inventory (F1A)
//   POST /api/v1/status   {claim}                                  signed status report
//   POST /api/v1/poll     {claim, wait_secs?}                      signed long-poll for actions (F1C)
// Answers to status and poll carry the host's pending signed actions.
import { createHash, timingSafeEqual, type X509Certificate } from 'node:crypto';
import { certificateToPem, fingerprintSha256, parseCertificates } from '../../crypto/index.js';
import { REPORT_ATTRIBUTES, stateSha256, type ActionOutcome, type RelayedKind, type ReportType, type SignedClaim } from '../../protocol/index.js';
import type { AuditLog } from '../admin/audit-log.js';
import type { Principal } from '../admin/auth.js';
import { hostKey, type AcceptResult, type FleetStore } from '../store/index.js';
import { ApiError, malformed } from './http.js';
import { validate } from './schemas.js';
import { verifyClaim } from './verify-claim.js';

export interface AgentApiOptions {
  store: FleetStore;
  audit: AuditLog;
  registrationToken?: string;
  openRegistration?: boolean;
  maxClaimAgeSecs: number;
  now: () => Date;
  log: (line: string) => void;
  /** Called with every accepted report body, unchanged (the relay queue). */
  onAccepted?: (kind: RelayedKind, body: Record<string, unknown>) => Promise<void>;
  pollMaxSecs: number;
}

const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

function tokenMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  // Hash both first: timingSafeEqual needs equal lengths and must not leak the length.
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

function checkReport(claim: SignedClaim, type: ReportType, uuid: string): number {
  if (claim.report_type !== type) throw new ApiError(403, 'WRONG_REPORT_TYPE', `this endpoint takes report_type "${type}" claims`);
  if (claim.host_uuid !== uuid) throw new ApiError(403, 'HOST_MISMATCH', 'the claim names another host_uuid');
  const s = claim.sequence;
  if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 1) throw malformed('claim.sequence must be a positive integer');
  return s;
}

function presentedCertificate(pem: string, uuid: string): X509Certificate {
  let certs: X509Certificate[];
  try {
    certs = parseCertificates(pem);
  } catch {
    throw malformed('certificate is not a PEM certificate');
  }
  if (certs.length !== 1) throw malformed("certificate must hold exactly one certificate (the host's own)");
  const cert = certs[0]!;
  // WAPT claims are RSA PKCS#1 v1.5: an EC key would make verify() mean something else
  if (cert.publicKey.asymmetricKeyType !== 'rsa') throw new ApiError(403, 'CERT_INVALID', 'the host certificate must carry an RSA key');
  // F1A: the certificate must name the host it speaks for (WAPT: CN = host UUID)
  const cn = cert.subject
    .split('\n')
    .find((f) => f.startsWith('CN='))
    ?.slice(3);
  if (!cn || cn.toLowerCase() !== uuid.toLowerCase()) {
    throw new ApiError(403, 'CERT_UUID_MISMATCH', "the certificate's subject CN must be the host UUID it registers");
  }
  return cert;
}

function refused(r: Extract<AcceptResult, { ok: false }>, seq: number): ApiError {
  switch (r.reason) {
    case 'REPLAY':
      return new ApiError(409, 'REPLAY', `sequence ${seq} is not above the last one accepted (${r.last}): replayed or out-of-order report`);
    case 'CERT_CONFLICT':
      return new ApiError(409, 'CERT_CONFLICT', 'this host UUID is registered with another certificate; the server admin must forget it first');
    case 'CERT_IN_USE':
      return new ApiError(409, 'CERT_IN_USE', 'this certificate already owns another host UUID: one certificate, one host');
    case 'UNKNOWN_HOST':
      return new ApiError(403, 'UNKNOWN_HOST', 'this host is not registered: run `wapt-get register` first');
    case 'SIGNER_MISMATCH':
      return new ApiError(403, 'SIGNER_MISMATCH', 'the claim was not signed by the certificate registered for this host');
  }
}

function outcomesOf(claim: SignedClaim): ActionOutcome[] {
  return Array.isArray(claim.action_results) ? (claim.action_results as ActionOutcome[]) : [];
}

/** Parsing a PEM is a tenth of a report's CPU: keep the parsed certificate per fingerprint (bounded, oldest out). */
const CERT_CACHE_MAX = 20_000;
const certCache = new Map<string, X509Certificate>();
function registeredCertificate(fingerprint: string, pem: string): X509Certificate {
  // the store keeps the fingerprint with the PEM it was computed from: same key, same certificate
  let cert = certCache.get(fingerprint);
  if (cert) return cert;
  cert = parseCertificates(pem)[0]!;
  if (certCache.size >= CERT_CACHE_MAX) certCache.delete(certCache.keys().next().value!);
  certCache.set(fingerprint, cert);
  return cert;
}

export function agentApi(o: AgentApiOptions) {
  const verifyOpts = (certificate: X509Certificate) => ({ certificate, required: REPORT_ATTRIBUTES, maxAgeSecs: o.maxClaimAgeSecs, now: o.now() });

  /** F1A: an enrolment token from the store, the legacy shared token, open mode, or a relay's credential. */
  async function admit(token: unknown, relay: Principal | null): Promise<void> {
    if (relay) return; // a relay (role operate) forwards registrations its own server admitted
    if (typeof token === 'string' && token !== '') {
      const verdict = await o.store.useEnrollToken(sha256Hex(token), o.now());
      if (verdict === 'OK') return;
      if (verdict !== 'UNKNOWN') throw new ApiError(401, `ENROLL_TOKEN_${verdict}`, `the enrolment token is ${verdict.toLowerCase().replace('_', ' ')}`);
      if (o.registrationToken !== undefined && tokenMatches(token, o.registrationToken)) return;
      throw new ApiError(401, 'BAD_TOKEN', 'missing or wrong registration token');
    }
    if (o.openRegistration) return;
    throw new ApiError(401, 'BAD_TOKEN', 'missing or wrong registration token');
  }

  async function register(body: Record<string, unknown>, relay: Principal | null, remote: string): Promise<[number, unknown]> {
    validate('register', body);
    const uuid = body.host_uuid as string;
    const key = hostKey(uuid)!;
    const cert = presentedCertificate(body.certificate as string, uuid);
    const claim = verifyClaim(body.claim, verifyOpts(cert));
    const seq = checkReport(claim, 'inventory', uuid);
    const fp = fingerprintSha256(cert);
    const known = await o.store.getHost(key);
    // re-registration with the pinned certificate is authenticated by its signature
    if (!known || known.fingerprint !== fp) await admit(body.token, relay);
    const hostname = typeof claim.hostname === 'string' ? claim.hostname.slice(0, 255) : '';
    const r = await o.store.register({
      key,
      uuid,
      fingerprint: fp,
      sequence: seq,
      at: o.now().toISOString(),
      hostname,
      certificate: certificateToPem(cert),
      claim,
    });
    if (!r.ok) throw refused(r, seq);
    await o.audit.append({ event: 'register', host_uuid: uuid, remote, who: relay?.name, detail: { fingerprint: fp, created: r.created } });
    o.log(`${r.created ? 'registered' : 're-registered'} host ${key} (certificate ${fp.slice(0, 16)}…)`);
    await o.onAccepted?.('register', body);
    return [r.created ? 201 : 200, { host_uuid: uuid, fingerprint: fp, registered: r.created, sequence: seq }];
  }

  /** The registered host of a status or poll claim, its verified claim and sequence. */
  async function verifiedFromHost(body: Record<string, unknown>, type: 'status' | 'poll' | 'unregister') {
    const raw = body.claim as Record<string, unknown>;
    const key = hostKey(raw.host_uuid);
    if (!key) throw malformed('claim.host_uuid is missing or unusable');
    const rec = await o.store.getHost(key);
    if (!rec) {
      if (await o.store.getTombstone(key)) throw new ApiError(403, 'HOST_FORGOTTEN', 'this host was forgotten by the server admin: register it again');
      throw new ApiError(403, 'UNKNOWN_HOST', 'this host is not registered: run `wapt-get register` first');
    }
    const claim = verifyClaim(raw, verifyOpts(registeredCertificate(rec.fingerprint, rec.certificate)));
    const seq = checkReport(claim, type, raw.host_uuid as string);
    return { key, rec, claim, seq };
  }

  async function status(body: Record<string, unknown>): Promise<[number, unknown]> {
    validate('status', body);
    const { key, rec, claim, seq } = await verifiedFromHost(body, 'status');
    const hostname = typeof claim.hostname === 'string' ? claim.hostname.slice(0, 255) : '';
    // a report without its state section names the state it assumes by hash (delta report)
    const held = rec.status && Array.isArray(rec.status.packages) ? rec.status : rec.inventory;
    const heldHash = held ? stateSha256(held.packages, held.pending_upgrades) : null;
    const keepState = !Array.isArray(claim.packages);
    const stale = keepState && claim.state_sha256 !== heldHash;
    const r = await o.store.acceptStatus({
      key,
      uuid: rec.host_uuid,
      fingerprint: rec.fingerprint,
      sequence: seq,
      at: o.now().toISOString(),
      hostname,
      claim,
      keepState,
    });
    if (!r.ok) throw refused(r, seq);
    const stateHash = keepState ? heldHash : stateSha256(claim.packages, claim.pending_upgrades);
    const outcomes = outcomesOf(claim);
    if (outcomes.length) await o.store.recordOutcomes(key, outcomes);
    await o.onAccepted?.('status', body);
    return [
      200,
      {
        host_uuid: rec.host_uuid,
        accepted: true,
        sequence: seq,
        state_sha256: stateHash,
        full_report_needed: stale,
        actions: await o.store.pendingActions(key, o.now()),
      },
    ];
  }

  async function poll(body: Record<string, unknown>, closed: () => boolean): Promise<[number, unknown]> {
    validate('poll', body);
    const { key, rec, seq } = await verifiedFromHost(body, 'poll');
    const r = await o.store.acceptStatus({
      key,
      uuid: rec.host_uuid,
      fingerprint: rec.fingerprint,
      sequence: seq,
      at: o.now().toISOString(),
      hostname: '',
      claim: null,
    });
    if (!r.ok) throw refused(r, seq);
    const waitMs = Math.min(typeof body.wait_secs === 'number' ? body.wait_secs : 25, o.pollMaxSecs) * 1000;
    const until = Date.now() + waitMs;
    // other instances may queue the action: look again every second until one shows up
    for (;;) {
      const actions = await o.store.pendingActions(key, o.now());
      if (actions.length || Date.now() >= until || closed()) return [200, { host_uuid: rec.host_uuid, sequence: seq, actions }];
      await new Promise((res) => setTimeout(res, Math.min(1000, Math.max(0, until - Date.now()))));
    }
  }

  /**
   * F1A, issue 14 §5: the host asks to be forgotten, signed by its registered key. The
   * sequence is taken first (a replayed request is refused like a replayed report), then
   * the host is forgotten as an admin's DELETE would: its tombstone keeps that sequence.
   */
  async function unregister(body: Record<string, unknown>, remote: string): Promise<[number, unknown]> {
    validate('unregister', body);
    const { key, rec, seq } = await verifiedFromHost(body, 'unregister');
    const at = o.now().toISOString();
    const r = await o.store.acceptStatus({ key, uuid: rec.host_uuid, fingerprint: rec.fingerprint, sequence: seq, at, hostname: '', claim: null });
    if (!r.ok) throw refused(r, seq);
    await o.store.forget(key, at);
    await o.audit.append({ event: 'unregister', host_uuid: rec.host_uuid, remote, detail: { fingerprint: rec.fingerprint, sequence: seq } });
    o.log(`host ${key} unregistered itself (certificate ${rec.fingerprint.slice(0, 16)}…)`);
    await o.onAccepted?.('unregister', body);
    return [200, { host_uuid: rec.host_uuid, unregistered: true, sequence: seq }];
  }

  return { register, status, poll, unregister };
}
