// The public door of the signed index statement (X2, docs/index-statement.md).
export {
  createStatement,
  verifyStatement,
  parseStatement,
  serializeStatement,
  nextStatementVersion,
  sha256Hex,
  STATEMENT_MEMBER,
  STATEMENT_SIGNATURE_MEMBER,
  STATEMENT_FORMAT,
  type StatementFields,
  type IndexStatement,
  type CreateStatementOptions,
  type VerifyStatementOptions,
  type VerifiedStatement,
} from './statement.js';
export { parseDuration } from './duration.js';
