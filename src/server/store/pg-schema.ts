// The PostgreSQL tables of the fleet store. Claims are `json` (kept byte for byte as
// received, so anyone can re-verify the signed bytes); times are ISO text (ordered as text).
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS wg_hosts (
  key text PRIMARY KEY,
  host_uuid text NOT NULL,
  certificate text NOT NULL,
  fingerprint text NOT NULL UNIQUE,
  registered_at text NOT NULL,
  last_seen text NOT NULL,
  last_sequence bigint NOT NULL,
  hostname text NOT NULL,
  inventory json,
  inventory_at text,
  status json,
  status_at text,
  summary jsonb NOT NULL,
  state text NOT NULL,
  search text NOT NULL
);
CREATE TABLE IF NOT EXISTS wg_host_packages (
  key text NOT NULL REFERENCES wg_hosts(key) ON DELETE CASCADE,
  package text NOT NULL,
  version text NOT NULL,
  state text NOT NULL,
  PRIMARY KEY (key, package)
);
CREATE INDEX IF NOT EXISTS wg_host_packages_package ON wg_host_packages (package, state);
CREATE TABLE IF NOT EXISTS wg_tombstones (
  key text PRIMARY KEY,
  host_uuid text NOT NULL,
  fingerprint text NOT NULL,
  last_sequence bigint NOT NULL,
  forgotten_at text NOT NULL
);
CREATE TABLE IF NOT EXISTS wg_reports (
  id bigserial PRIMARY KEY,
  key text NOT NULL,
  host_uuid text NOT NULL,
  sequence bigint NOT NULL,
  report_type text NOT NULL,
  received_at text NOT NULL,
  claim json NOT NULL
);
CREATE INDEX IF NOT EXISTS wg_reports_key ON wg_reports (key, sequence DESC);
CREATE INDEX IF NOT EXISTS wg_reports_received ON wg_reports (received_at);
CREATE TABLE IF NOT EXISTS wg_enroll_tokens (
  id text PRIMARY KEY,
  hash text NOT NULL UNIQUE,
  label text NOT NULL,
  uses_left integer NOT NULL,
  uses_total integer NOT NULL,
  expires_at text NOT NULL,
  created_at text NOT NULL,
  revoked_at text
);
CREATE TABLE IF NOT EXISTS wg_actions (
  id text PRIMARY KEY,
  host_key text NOT NULL,
  action json NOT NULL,
  queued_by text NOT NULL,
  queued_at text NOT NULL,
  not_after text NOT NULL,
  outcome json
);
CREATE INDEX IF NOT EXISTS wg_actions_host ON wg_actions (host_key, queued_at);
CREATE TABLE IF NOT EXISTS wg_audit (
  id bigserial PRIMARY KEY,
  at text NOT NULL,
  event text NOT NULL,
  host_uuid text,
  entry json NOT NULL
);
CREATE INDEX IF NOT EXISTS wg_audit_at ON wg_audit (at);
`;
