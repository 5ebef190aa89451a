// The management side of `serve` (hosts register, then send signed reports): the only
// door the rest of the server uses.
export { createManagementHandler, isManagementPath, API_PREFIX, DASHBOARD_PATH, type ManagementOptions } from './routes.js';
export { verifyClaim, DEFAULT_MAX_CLAIM_AGE_SECS, type VerifyClaimOptions } from './verify-claim.js';
export { HostStore, hostKey, type HostRecord } from './store.js';
export { summarizeHost, summarizeHosts, type HostSummary } from './summary.js';
export { ApiError, DEFAULT_MAX_BODY, type ApiCode } from './http.js';
