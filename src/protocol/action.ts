// Signed actions (F3A, F1C): an admin signs `{id, host_uuid, action, args, signed_at,
// not_after}` on their own workstation; the server only queues it; the agent accepts it
// only after the checks below, in this order. Pure: the trust store and the "already
// run" question come in from the caller.
import { randomUUID, type X509Certificate } from 'node:crypto';
import { WaptError } from '../errors.js';
import { decodeBase64Loose, fingerprintSha256, parseCertificates, verifySha256, type TrustStore } from '../crypto/index.js';
import { CLAIM_SIGNATURE_ATTRIBUTES, claimSignedBlob, signClaim, type ClaimSigner, type SignedClaim } from './claims.js';

export const ACTION_NAMES = ['update', 'upgrade', 'install', 'remove', 'forget', 'update-status', 'audit'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];
/** Actions that need at least one package name. */
const NEEDS_ARGS = new Set<ActionName>(['install', 'remove', 'forget']);
export const ACTION_ATTRIBUTES = ['id', 'host_uuid', 'action', 'args', 'signed_at', 'not_after'] as const;
/** F3A: an action is valid one minute unless the admin signs a longer window. */
export const DEFAULT_ACTION_WINDOW_SECS = 60;
/** F3A: how far signed_at may lie ahead of the agent's clock. */
export const ACTION_CLOCK_SKEW_SECS = 60;
const ARG_RE = /^[A-Za-z0-9][A-Za-z0-9._+~:()<>=,-]{0,199}$/;

export interface ActionBody {
  id: string;
  host_uuid: string;
  action: ActionName;
  args: string[];
  /** ISO 8601 UTC with Z. */
  signed_at: string;
  not_after: string;
}

export type SignedAction = SignedClaim & ActionBody;

export interface NewAction {
  hostUuid: string;
  action: ActionName;
  args: string[];
  windowSecs?: number;
  id?: string;
}

function invalid(message: string, detail: Record<string, unknown> = {}): WaptError {
  return new WaptError('ACTION_INVALID', message, { detail });
}

/** The body's own rules (names, args), shared by `action sign`, the server and the agent. */
export function checkActionBody(b: Record<string, unknown>): ActionBody {
  if (typeof b.id !== 'string' || !/^[A-Za-z0-9-]{8,64}$/.test(b.id)) throw invalid('action id must be 8–64 letters, digits or dashes');
  if (typeof b.host_uuid !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(b.host_uuid)) throw invalid('action host_uuid is not a host UUID');
  if (typeof b.action !== 'string' || !(ACTION_NAMES as readonly string[]).includes(b.action)) {
    throw invalid(`action must be one of ${ACTION_NAMES.join(', ')}`, { action: b.action });
  }
  const args = b.args;
  if (!Array.isArray(args) || args.length > 100 || !args.every((a): a is string => typeof a === 'string' && ARG_RE.test(a))) {
    throw invalid('action args must be a list of at most 100 package names or requirements');
  }
  if (NEEDS_ARGS.has(b.action as ActionName) && args.length === 0) throw invalid(`${b.action} needs at least one package name`);
  if (!NEEDS_ARGS.has(b.action as ActionName) && b.action !== 'upgrade' && b.action !== 'audit' && args.length > 0) {
    throw invalid(`${b.action} takes no arguments`);
  }
  for (const k of ['signed_at', 'not_after'] as const) {
    if (typeof b[k] !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/.test(b[k]) || Number.isNaN(Date.parse(b[k]))) {
      throw invalid(`action ${k} must be an ISO date-time in UTC (…Z)`);
    }
  }
  if (Date.parse(b.not_after as string) <= Date.parse(b.signed_at as string)) throw invalid('action not_after must be after signed_at');
  return { id: b.id, host_uuid: b.host_uuid, action: b.action as ActionName, args, signed_at: b.signed_at as string, not_after: b.not_after as string };
}

export function signAction(a: NewAction, signer: ClaimSigner, now: Date = new Date()): SignedAction {
  const signedAt = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const body = checkActionBody({
    id: a.id ?? randomUUID(),
    host_uuid: a.hostUuid,
    action: a.action,
    args: a.args,
    signed_at: signedAt.toISOString(),
    not_after: new Date(signedAt.getTime() + (a.windowSecs ?? DEFAULT_ACTION_WINDOW_SECS) * 1000).toISOString(),
  });
  return signClaim({ ...body }, signer, now) as SignedAction;
}

export interface VerifyActionOptions {
  /** action_signers_dir: who may sign actions for this host. */
  trust: TrustStore;
  hostUuid: string;
  now: Date;
  /** True when this id already ran here (replay). */
  alreadyRun: (id: string) => boolean;
}

/** F3A: signature, signer chains to action_signers_dir, own UUID, time window, never run. */
export function verifyAction(input: unknown, o: VerifyActionOptions): ActionBody {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('an action must be a JSON object');
  const claim = input as Record<string, unknown>;
  const listed = claim.signed_attributes;
  if (!Array.isArray(listed) || !listed.every((a) => typeof a === 'string')) throw invalid('action.signed_attributes must be a list');
  for (const a of [...ACTION_ATTRIBUTES, ...CLAIM_SIGNATURE_ATTRIBUTES]) {
    if (!listed.includes(a)) throw invalid(`the action does not sign ${a}`);
  }
  for (const k of Object.keys(claim)) if (k !== 'signature' && !listed.includes(k)) throw invalid(`action attribute ${k} is not signed`);
  const body = checkActionBody(claim);
  let chain: X509Certificate[];
  try {
    chain = parseCertificates(String(claim.signer_certificate ?? ''));
  } catch {
    throw new WaptError('ACTION_BAD_SIGNATURE', 'action.signer_certificate is not a PEM certificate', { detail: { id: body.id } });
  }
  const signer = chain[0];
  let ok = false;
  try {
    ok =
      signer !== undefined &&
      fingerprintSha256(signer) === String(claim.signer).toLowerCase() &&
      verifySha256(signer, claimSignedBlob(claim, listed as string[]), decodeBase64Loose(String(claim.signature ?? '')));
  } catch {
    ok = false;
  }
  if (!ok) throw new WaptError('ACTION_BAD_SIGNATURE', `action ${body.id}: the signature does not verify`, { detail: { id: body.id } });
  try {
    o.trust.verifyChain(signer!, chain.slice(1), { at: o.now });
  } catch (err) {
    throw new WaptError('ACTION_SIGNER_UNTRUSTED', `action ${body.id}: its signer does not chain to action_signers_dir (${(err as Error).message})`, {
      cause: err,
      detail: { id: body.id, signer: fingerprintSha256(signer!) },
    });
  }
  if (body.host_uuid.toLowerCase() !== o.hostUuid.toLowerCase()) {
    throw new WaptError('ACTION_WRONG_HOST', `action ${body.id} is for host ${body.host_uuid}, not this one`, { detail: { id: body.id } });
  }
  const now = o.now.getTime();
  if (now < Date.parse(body.signed_at) - ACTION_CLOCK_SKEW_SECS * 1000) {
    throw new WaptError('ACTION_NOT_YET_VALID', `action ${body.id} is signed for ${body.signed_at}, ahead of this clock`, { detail: { id: body.id } });
  }
  if (now > Date.parse(body.not_after)) {
    throw new WaptError('ACTION_EXPIRED', `action ${body.id} expired at ${body.not_after}`, { detail: { id: body.id, not_after: body.not_after } });
  }
  if (o.alreadyRun(body.id)) throw new WaptError('ACTION_REPLAYED', `action ${body.id} already ran on this host`, { detail: { id: body.id } });
  return body;
}
