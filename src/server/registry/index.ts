// The management side of `serve` (hosts register, then send signed reports): the only
// door the rest of the server uses.
export { createManagementHandler, isManagementPath, API_PREFIX, DASHBOARD_PATH, type ManagementOptions, type Management } from './routes.js';
export { verifyClaim, DEFAULT_MAX_CLAIM_AGE_SECS, type VerifyClaimOptions } from './verify-claim.js';
export { ApiError, DEFAULT_MAX_BODY, sendError, sendJson, type ApiCode } from './http.js';
export { validate, SCHEMAS } from './schemas.js';
