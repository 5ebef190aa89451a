// The store room of serve: one interface, the files backend and PostgreSQL.
export * from './types.js';
export { summarizeHost, matchesQuery } from './summary.js';
export { FileStore } from './files.js';
export { openStore, openTokenStore, type StoreOptions } from './open.js';
export { EnrollTokenFile, verdictOf } from './enroll-file.js';
