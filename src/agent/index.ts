// The public door of src/agent.
export { loadConfig, type WaptConfig, type RepoConfig, type VerifyCert } from './config.js';
export { acquireLock, isPidAlive, type Lock } from './lock.js';
export { indexHealth, noRepositoryError, requireUsableIndex, type RepoIndexHealth, type IndexState } from './index-health.js';
export * from './db/index.js';
export * from './resolver/index.js';
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
} from '../protocol/index.js';
export { AgentRuntime, httpOptionsForRepo, type AgentLog, type HttpEndpoint, type RuntimeOptions } from './runtime.js';
export { hostEnvironment, hostOs, type EnvironmentOverrides } from './environment.js';
export { availableCandidates, candidatesFor, priorityFromRepos, toCandidate, toCandidates, toInstalledPkg, type PriorityOf } from './candidates.js';
export { cachePath, downloadCandidate, fetchVerifiedPackage, repoBaseUrl, type CachedPackage, type FetchPackageOptions } from './cache.js';
export * from './update/index.js';
export * from './install/index.js';
export { createBundle, type BundleResult, type CreateBundleOptions } from './bundle/create.js';
export { importBundle, DEFAULT_BUNDLE_REPO, type ImportBundleOptions } from './bundle/import.js';
export { auditVerb, type AuditResultRow } from './audit.js';
export { sessionSetupVerb, type SessionResult } from './session-setup.js';
export * from './inventory.js';
export { loadOrCreateHostIdentity, nextSequence, HOST_IDENTITY_DIR, type HostIdentity, type HostIdentityOptions } from './host-identity.js';
export { fetchFromUpstream, upstreamTrust, type UpstreamFetch } from './upstream.js';
export { mirrorRepository, type MirrorRequest, type MirrorReport } from './mirror/index.js';
export { setIniValue } from './ini-edit.js';
export { unregisterHost, serverAndHost, type UnregisterOutcome } from './report/index.js';
export { reportCycle, eventsOf, agentLoop, Outbox, OUTBOX_DIR, sendOutbox, type CycleResult, type ResultLike, type AgentLoopOptions } from './report/index.js';
export { runActions, type ActionsRun } from './actions/runner.js';
export { updatePackageSources, type UpdateSourcesOptions, type UpdateSourcesResult } from './update-sources.js';
export { parseIni, type IniFile, type IniValue } from './ini.js';
