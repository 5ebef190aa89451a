// What an automatic report says happened (item 3 of the Fleet issue): one event per
// package touched by the operation that ends with the report.
export const REPORT_OPS = ['update', 'install', 'upgrade', 'remove', 'audit', 'forget', 'update-status', 'action'] as const;
export type ReportOp = (typeof REPORT_OPS)[number];

export interface ReportEvent {
  op: ReportOp;
  package: string | null;
  version: string | null;
  /** OK, ERROR, REMOVED, DOWNLOADED, FAILED (a whole-verb failure) … */
  result: string;
  error_code: string | null;
  /** ISO 8601 UTC. */
  at: string;
  /** Set when the operation ran a signed action. */
  action_id?: string;
}

/** An action's outcome as the agent reports it back. */
export interface ActionOutcome {
  id: string;
  result: 'OK' | 'ERROR' | 'REFUSED';
  error_code: string | null;
  message: string | null;
  at: string;
}
