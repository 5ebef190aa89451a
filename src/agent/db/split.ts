// Moving the stored index out of a single-file DB (state schema < 5) into its own file.
// The whole old file becomes the index (its available and repos pages are kept as they
// are, the state tables dropped from that copy), and the state drops its copy of the
// index then is vacuumed down to what an install rewrites. Nothing is copied row by row,
// so a 10,000-entry file splits in a few hundred ms, once. Until both files are written
// (index first: docs/local-state.md) the old file on disk is untouched, so a crash
// mid-migration leaves the old single file and the split is simply done again.
import type { Database, SqlJsStatic } from 'sql.js';
import { configure } from './store.js';
import { INDEX_SCHEMA_VERSION, migrate, SPLIT_VERSION, userVersion } from './schema.js';

/** The state tables, dropped from the copy that becomes the index. */
const STATE_TABLES = ['installed', 'params', 'log', 'session_setup'];

/** A state DB still holding the index (schema 1..4) must be split before migrating on. */
export function holdsIndex(state: Database): boolean {
  const v = userVersion(state);
  return v >= 1 && v < SPLIT_VERSION;
}

/**
 * Returns the index DB made from `state`'s available and repos tables; `state` is then
 * migrated to the split schema (its copies dropped) and vacuumed. Both are in memory only.
 */
export function splitIndexOut(SQL: SqlJsStatic, state: Database): Database {
  migrate(state, SPLIT_VERSION - 1); // the columns of schema 4 are the index schema's
  const index = new SQL.Database(state.export());
  configure(state); // export() reopened the connection
  configure(index);
  index.exec(['BEGIN', ...STATE_TABLES.map((t) => `DROP TABLE IF EXISTS ${t}`), `PRAGMA user_version = ${INDEX_SCHEMA_VERSION}`, 'COMMIT'].join(';\n'));
  migrate(state); // drops available and repos
  state.exec('VACUUM'); // the state file shrinks to its own rows
  return index;
}
