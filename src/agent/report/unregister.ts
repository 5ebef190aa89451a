// `unregister` (issue 14 §5): this host asks wapt_server to forget it, with a claim
// signed by its registered key (POST /api/v1/unregister), then forgets its own identity:
// the host key, its certificate, its sequence, and the outbox of reports signed for a
// registration that no longer exists. The server is told first: when it cannot be
// reached or refuses, nothing local is touched, so the command can simply be run again.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { WaptError } from '../../errors.js';
import { signReport } from '../../protocol/index.js';
import type { WaptConfig } from '../config.js';
import { HOST_IDENTITY_DIR, nextSequence } from '../host-identity.js';
import type { AgentLog } from '../runtime.js';
import { OUTBOX_DIR } from './outbox.js';
import { existingIdentity, postClaim, serverAndHost } from './sender.js';

export interface UnregisterOutcome {
  server: string;
  host_uuid: string;
  /** What the server said: forgotten now, or it had already forgotten (or never knew) this host. */
  server_status: 'unregistered' | 'already-forgotten' | 'not-sent';
  fingerprint: string | null;
  /** Local paths removed (or that would be, on a dry run). */
  removed: string[];
  dry_run: boolean;
}

/** Server codes that mean "nothing to forget there": the local identity goes anyway. */
const GONE = new Set(['HOST_FORGOTTEN', 'UNKNOWN_HOST']);

const shown = (v: unknown) => (typeof v === 'string' ? v.replace(/[^\x20-\x7e]/g, '?').slice(0, 200) : '');

/** Renamed away first (one step), then deleted: a concurrent report finds the key or nothing. */
async function removeDir(dir: string): Promise<boolean> {
  const gone = `${dir}.removed-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.rename(dir, gone);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new WaptError('IO_ERROR', `cannot remove ${dir}: ${(err as Error).message}`, { cause: err, detail: { path: dir } });
  }
  await fs.rm(gone, { recursive: true, force: true });
  return true;
}

export async function unregisterHost(cfg: WaptConfig, env: NodeJS.ProcessEnv, log: AgentLog, dryRun: boolean): Promise<UnregisterOutcome> {
  const { server, hostUuid } = serverAndHost(cfg);
  const identityDir = join(cfg.dbdir, HOST_IDENTITY_DIR);
  const local = [identityDir, join(cfg.dbdir, OUTBOX_DIR)];
  const identity = await existingIdentity(cfg, log);
  if (!identity) {
    throw new WaptError('NOT_REGISTERED', `this host has no host key under ${identityDir}: it never registered, or was unregistered already`, {
      detail: { path: identityDir },
    });
  }
  const base = { server, host_uuid: hostUuid, fingerprint: identity.fingerprint, dry_run: dryRun };
  if (dryRun) return { ...base, server_status: 'not-sent', removed: local };
  const sequence = await nextSequence(identity.dir);
  const claim = signReport('unregister', hostUuid, sequence, {}, { key: identity.key, chain: [identity.certificate] });
  const { status, answer } = await postClaim({ config: cfg, env, log, pendingUpgrades: async () => [] }, '/api/v1/unregister', { claim });
  let serverStatus: UnregisterOutcome['server_status'] = 'unregistered';
  if (status < 200 || status >= 300) {
    const code = shown(answer.code);
    if (!(status === 403 && GONE.has(code))) {
      throw new WaptError('HTTP_STATUS', `${server} refused to unregister ${hostUuid}: HTTP ${status} ${code || 'no code'}: ${shown(answer.message)}`, {
        detail: { url: `${server}/api/v1/unregister`, status, server_code: code || null },
      });
    }
    serverStatus = 'already-forgotten';
  }
  const removed: string[] = [];
  for (const dir of local) if (await removeDir(dir)) removed.push(dir);
  return { ...base, server_status: serverStatus, removed };
}
