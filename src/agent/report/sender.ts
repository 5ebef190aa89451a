// Sends the outbox to wapt_server, oldest first: each entry becomes a status report signed
// now by the host key, with the host's current package state, pending upgrades and the
// entry's events. Stops at the first failure (the rest wait for the next run, in order).
// Never throws for the server's sake: the caller's exit code must not depend on it.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { WaptError } from '../../errors.js';
import { postJson } from '../../repo/index.js';
import { signReport, stateSha256, type SignedClaim } from '../../protocol/index.js';
import { VERSION_STRING } from '../../version.js';
import type { WaptConfig } from '../config.js';
import { HOST_IDENTITY_DIR, loadOrCreateHostIdentity, nextSequence, type HostIdentity } from '../host-identity.js';
import { buildStatusReport, systemFacts } from '../inventory.js';
import { AgentRuntime, httpOptionsForRepo, type AgentLog } from '../runtime.js';
import type { Outbox } from './outbox.js';
import { readAcked, writeAcked } from './state-ack.js';

export interface Delivery {
  sent: number;
  /** Entries still queued. */
  pending: number;
  /** Signed actions the server handed back (unverified: the runner checks them). */
  actions: unknown[];
  /** Why the queue stopped, when it did. */
  error: string | null;
}

export interface PendingUpgrade {
  package: string;
  version: string | null;
}

export interface SenderDeps {
  config: WaptConfig;
  env: NodeJS.ProcessEnv;
  log: AgentLog;
  /** What `upgrade` would do now (the one answer), for the dashboard's NEED-UPGRADE. */
  pendingUpgrades: () => Promise<PendingUpgrade[]>;
}

/** The host key, if this host registered (reports never create one). */
export async function existingIdentity(cfg: WaptConfig, log: AgentLog): Promise<HostIdentity | null> {
  const dir = join(cfg.dbdir, HOST_IDENTITY_DIR);
  if (!(await fs.stat(join(dir, 'host.key')).catch(() => null))) return null;
  return loadOrCreateHostIdentity(cfg.dbdir, { hostUuid: cfg.hostUuid!, onWarning: (m) => log.warn(m) });
}

/** What every message to wapt_server needs from the ini (CONFIG_INVALID naming the key otherwise). */
export function serverAndHost(cfg: WaptConfig): { server: string; hostUuid: string } {
  if (!cfg.waptServer)
    throw new WaptError('CONFIG_INVALID', `set wapt_server=https://SERVER:PORT in [global] of ${cfg.configPath}`, { detail: { key: 'wapt_server' } });
  if (!cfg.hostUuid)
    throw new WaptError('CONFIG_INVALID', `this host has no UUID: set host_uuid in [global] of ${cfg.configPath}`, { detail: { key: 'host_uuid' } });
  return { server: cfg.waptServer.replace(/\/+$/, ''), hostUuid: cfg.hostUuid };
}

export function serverEndpoint(cfg: WaptConfig) {
  return {
    url: cfg.waptServer!.replace(/\/+$/, ''),
    verifyCert: cfg.verifyCert,
    clientCertificate: cfg.clientCertificate,
    clientPrivateKey: cfg.clientPrivateKey,
    httpProxy: null,
    timeoutMs: cfg.reportTimeoutMs,
    allowInsecureHttp: cfg.allowInsecureHttp,
  };
}

/** POSTs a signed claim; the server's JSON answer, or an error string. */
export async function postClaim(d: SenderDeps, path: string, payload: Record<string, unknown>): Promise<{ status: number; answer: Record<string, unknown> }> {
  const ep = serverEndpoint(d.config);
  // short and single: a report must never hold the verb up (the outbox keeps it)
  const res = await postJson(`${ep.url}${path}`, payload, { ...httpOptionsForRepo(d.config, ep, d.env, d.log), retries: 0 });
  const answer = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as Record<string, unknown>;
  return { status: res.status, answer };
}

const shown = (v: unknown) => (typeof v === 'string' ? v.replace(/[^\x20-\x7e]/g, '?').slice(0, 200) : '');

export async function sendOutbox(d: SenderDeps, outbox: Outbox, resent = false): Promise<Delivery> {
  const cfg = d.config;
  const out: Delivery = { sent: 0, pending: 0, actions: [], error: null };
  const names = await outbox.names();
  out.pending = names.length;
  if (!names.length) return out;
  const identity = await existingIdentity(cfg, d.log);
  if (!identity) {
    out.error = 'this host has no key yet: run `wapt-get register` (reports stay queued)';
    return out;
  }
  const rt = await AgentRuntime.open(cfg, { lock: false, env: d.env, log: d.log });
  let rows;
  try {
    rows = rt.db.installed.list();
  } finally {
    await rt.close();
  }
  const pending = await d.pendingUpgrades().catch(() => [] as PendingUpgrade[]);
  const hostname = systemFacts().hostname;
  let needFull = false;
  for (const name of names) {
    const entry = await outbox.read(name);
    if (!entry) {
      await outbox.remove(name);
      out.pending--;
      continue;
    }
    const full = buildStatusReport(cfg.hostUuid!, hostname, VERSION_STRING, rows);
    const hash = stateSha256(full.packages, pending);
    // the server already holds this state (it said so): send its hash, not the section
    const { packages: _p, ...rest } = full;
    const state = (await readAcked(outbox.dir)) === hash ? { ...rest } : { ...full, pending_upgrades: pending };
    const data = {
      ...state,
      state_sha256: hash,
      op: entry.op,
      events: entry.events,
      action_results: entry.action_results,
      queued_at: entry.created_at,
      dropped_before: entry.dropped_before,
    };
    const claim: SignedClaim = signReport('status', cfg.hostUuid!, await nextSequence(identity.dir), data, {
      key: identity.key,
      chain: [identity.certificate],
    });
    let res;
    try {
      res = await postClaim(d, '/api/v1/status', { claim });
    } catch (err) {
      out.error = `${(err as Error).message}`;
      return out;
    }
    if (res.status < 200 || res.status >= 300) {
      out.error = `HTTP ${res.status} ${shown(res.answer.code)}: ${shown(res.answer.message)}`;
      return out;
    }
    await outbox.remove(name);
    out.sent++;
    out.pending--;
    if (res.answer.full_report_needed === true) needFull = true;
    await writeAcked(outbox.dir, res.answer.full_report_needed !== true && res.answer.state_sha256 === hash ? hash : null);
    if (Array.isArray(res.answer.actions)) out.actions.push(...res.answer.actions);
  }
  if (needFull && !resent) {
    // the server's state differed from the hash we sent: one full report now
    await outbox.add({ op: 'update-status', events: [], action_results: [] });
    const again = await sendOutbox(d, outbox, true);
    return { sent: out.sent + again.sent, pending: again.pending, actions: [...out.actions, ...again.actions], error: again.error };
  }
  return out;
}
