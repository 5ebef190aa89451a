// The agent's local state (W-G1): open with openDb, change through the typed tables,
// save with persist().
export { openDb, WaptDb, type OpenDbOptions } from './open.js';
export { MIGRATIONS, SCHEMA_VERSION, migrate, type Migration } from './schema.js';
export type { AvailableInput } from './available.js';
export type { RepoInput } from './tables.js';
export * from './types.js';

/** WAPT's file name for the DB inside dbdir (W-G1). */
export const DB_FILENAME = 'waptdb.sqlite';
