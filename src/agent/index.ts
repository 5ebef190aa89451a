// The public door of src/agent.
export { loadConfig, type WaptConfig, type RepoConfig, type VerifyCert } from './config.js';
export { acquireLock, isPidAlive, type Lock } from './lock.js';
export * from './db/index.js';
export * from './resolver/index.js';
