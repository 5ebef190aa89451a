// The signed formats agent and server share (claims, reports, actions): a room below
// both, so neither reaches sideways into the other.
export {
  CLAIM_SIGNATURE_ATTRIBUTES,
  REPORT_ATTRIBUTES,
  claimSignedBlob,
  parseSignatureDate,
  pythonUtcIso,
  signClaim,
  signReport,
  type SignedClaim,
  type ClaimSigner,
  type ReportType,
  type RelayedKind,
} from './claims.js';
export {
  ACTION_NAMES,
  ACTION_ATTRIBUTES,
  DEFAULT_ACTION_WINDOW_SECS,
  ACTION_CLOCK_SKEW_SECS,
  checkActionBody,
  signAction,
  verifyAction,
  type ActionName,
  type ActionBody,
  type SignedAction,
  type NewAction,
  type VerifyActionOptions,
} from './action.js';
export { REPORT_OPS, type ReportOp, type ReportEvent, type ActionOutcome } from './events.js';
export { stateSha256 } from './state-hash.js';
