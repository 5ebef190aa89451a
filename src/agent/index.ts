// The public door of src/agent.
export { loadConfig, type WaptConfig, type RepoConfig, type VerifyCert } from './config.js';
export { acquireLock, isPidAlive, type Lock } from './lock.js';
export * from './db/index.js';
export * from './resolver/index.js';
export { atomicWriteFile } from './db/files.js';
export {
  CLAIM_SIGNATURE_ATTRIBUTES,
  REPORT_ATTRIBUTES,
  claimSignedBlob,
  parseSignatureDate,
  signClaim,
  signReport,
  type SignedClaim,
  type ClaimSigner,
  type ReportType,
} from './claims.js';
