// The public door of the signed index statement (X2, docs/index-statement.md).
export {
  createStatement,
  parseStatement,
  serializeStatement,
  nextStatementVersion,
  sha256Hex,
  STATEMENT_MEMBER,
  STATEMENT_SIGNATURE_MEMBER,
  STATEMENT_FORMAT,
  MAX_VERSION_LEAD_S,
  REPOSITORY_NAME,
  type StatementFields,
  type IndexStatement,
  type CreateStatementOptions,
} from './create.js';
export { verifyStatement, type VerifyStatementOptions, type VerifiedStatement } from './statement.js';
export {
  createFreshness,
  parseFreshness,
  serializeFreshness,
  FRESHNESS_MEMBER,
  FRESHNESS_SIGNATURE_MEMBER,
  type FreshnessFields,
  type CreateFreshnessOptions,
} from './freshness.js';
export { parseDuration } from './duration.js';
