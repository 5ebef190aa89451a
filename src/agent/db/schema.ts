// Versioned schema. PRAGMA user_version holds the number of migrations applied; each
// migration runs in its own transaction together with the version bump, so a DB is
// always at exactly one version. Append new migrations; never edit a published one.
import type { Database } from 'sql.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'installed, available, repos, params and log tables (W-G1)',
    sql: `
      CREATE TABLE installed (
        package TEXT PRIMARY KEY NOT NULL,
        version TEXT NOT NULL,
        architecture TEXT NOT NULL DEFAULT 'all',
        section TEXT NOT NULL DEFAULT 'base',
        priority TEXT NOT NULL DEFAULT 'optional',
        maturity TEXT NOT NULL DEFAULT '',
        locale TEXT NOT NULL DEFAULT '',
        explicit_by TEXT,
        depends_by TEXT,
        install_date TEXT,
        install_status TEXT NOT NULL DEFAULT 'INIT',
        install_output TEXT NOT NULL DEFAULT '',
        install_params TEXT NOT NULL DEFAULT '{}',
        uninstall_data TEXT NOT NULL DEFAULT 'null',
        setup_code TEXT,
        package_uuid TEXT,
        signer_fingerprint TEXT,
        filename TEXT,
        repo TEXT,
        last_audit_status TEXT,
        last_audit_on TEXT,
        last_audit_output TEXT,
        next_audit_on TEXT,
        error_code TEXT,
        pid INTEGER,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE available (
        id INTEGER PRIMARY KEY,
        repo TEXT NOT NULL,
        package TEXT NOT NULL,
        version TEXT NOT NULL,
        architecture TEXT NOT NULL DEFAULT 'all',
        maturity TEXT NOT NULL DEFAULT '',
        locale TEXT NOT NULL DEFAULT '',
        section TEXT NOT NULL DEFAULT 'base',
        filename TEXT NOT NULL,
        size INTEGER,
        md5sum TEXT,
        sha256 TEXT,
        signer_fingerprint TEXT,
        signature_date TEXT,
        control TEXT NOT NULL,
        depends TEXT NOT NULL DEFAULT '',
        conflicts TEXT NOT NULL DEFAULT '',
        priority TEXT NOT NULL DEFAULT 'optional',
        description TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX available_package ON available(package);
      CREATE INDEX available_repo ON available(repo);
      CREATE TABLE repos (
        name TEXT PRIMARY KEY NOT NULL,
        url TEXT NOT NULL,
        last_update TEXT,
        etag TEXT,
        last_modified TEXT,
        packages_count INTEGER NOT NULL DEFAULT 0,
        rejected_count INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE params (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
      CREATE TABLE log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        package TEXT,
        level TEXT NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX log_package ON log(package);
    `,
  },
  {
    version: 2,
    description: 'holds, signed-index rollback protection (X2), per-user session setup',
    sql: `
      ALTER TABLE installed ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE installed ADD COLUMN hold_reason TEXT;
      ALTER TABLE installed ADD COLUMN hold_until TEXT;
      ALTER TABLE repos ADD COLUMN index_version INTEGER;
      ALTER TABLE repos ADD COLUMN index_signed INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE repos ADD COLUMN index_expires TEXT;
      CREATE TABLE session_setup (
        user TEXT NOT NULL,
        package TEXT NOT NULL,
        version TEXT NOT NULL,
        done_on TEXT NOT NULL,
        PRIMARY KEY (user, package)
      );
    `,
  },
  {
    version: 3,
    description: 'pending_action: a removal the admin asked for that has not completed (interrupted or failed)',
    sql: `
      ALTER TABLE installed ADD COLUMN pending_action TEXT;
    `,
  },
  {
    version: 4,
    description: 'log.user: who ran each logged operation (wapt-get history)',
    sql: `
      ALTER TABLE log ADD COLUMN user TEXT;
    `,
  },
  {
    version: 5,
    description: 'the stored index (available, repos) moves to its own file, <db>.index (split.ts, docs/local-state.md)',
    sql: `
      DROP TABLE IF EXISTS available;
      DROP TABLE IF EXISTS repos;
    `,
  },
];

/** The state version from which available and repos live in the index file. */
export const SPLIT_VERSION = 5;

/**
 * Schema of the index file (its own user_version): what `update` writes. Version 1 has
 * exactly the columns the single-file schema 4 had, so a split copies pages, not rows.
 */
export const INDEX_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'available and repos (W-G1), as in the single-file schema 4',
    sql: `
      CREATE TABLE available (
        id INTEGER PRIMARY KEY,
        repo TEXT NOT NULL,
        package TEXT NOT NULL,
        version TEXT NOT NULL,
        architecture TEXT NOT NULL DEFAULT 'all',
        maturity TEXT NOT NULL DEFAULT '',
        locale TEXT NOT NULL DEFAULT '',
        section TEXT NOT NULL DEFAULT 'base',
        filename TEXT NOT NULL,
        size INTEGER,
        md5sum TEXT,
        sha256 TEXT,
        signer_fingerprint TEXT,
        signature_date TEXT,
        control TEXT NOT NULL,
        depends TEXT NOT NULL DEFAULT '',
        conflicts TEXT NOT NULL DEFAULT '',
        priority TEXT NOT NULL DEFAULT 'optional',
        description TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX available_package ON available(package);
      CREATE INDEX available_repo ON available(repo);
      CREATE TABLE repos (
        name TEXT PRIMARY KEY NOT NULL,
        url TEXT NOT NULL,
        last_update TEXT,
        etag TEXT,
        last_modified TEXT,
        packages_count INTEGER NOT NULL DEFAULT 0,
        rejected_count INTEGER NOT NULL DEFAULT 0,
        index_version INTEGER,
        index_signed INTEGER NOT NULL DEFAULT 0,
        index_expires TEXT
      );
    `,
  },
];

export const INDEX_SCHEMA_VERSION = INDEX_MIGRATIONS[INDEX_MIGRATIONS.length - 1].version;

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function userVersion(db: Database): number {
  const res = db.exec('PRAGMA user_version');
  return Number(res[0]?.values[0]?.[0] ?? 0);
}

/**
 * Brings `db` from its current version up to `target` (default: latest). Returns the
 * versions applied. A failing migration is rolled back and rethrown, leaving the DB at
 * the last good version.
 */
export function migrate(db: Database, target: number = SCHEMA_VERSION, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= userVersion(db) || m.version > target) continue;
    db.exec('BEGIN');
    try {
      db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${m.version}`);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    applied.push(m.version);
  }
  return applied;
}
