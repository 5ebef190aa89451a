// What `verify --explain` shows: each check verifyPackage makes, in the order it makes
// them, with its verdict. verifyPackage records into a CheckLog; a caller that passes
// no collector pays nothing but a few method calls.
import type { WaptError } from '../errors.js';

export const CHECKS = [
  { check: 'zip structure', rule: 'W-A1, W-D1' },
  { check: 'manifest signature', rule: 'W-D2, W-D3' },
  { check: 'control signature', rule: 'W-E2, W-E3' },
  { check: 'signer fingerprint', rule: 'X4' },
  { check: 'chain', rule: 'W-D4, X4' },
  { check: 'revocation', rule: 'X3' },
  { check: 'dates', rule: 'W-D4, X4' },
  { check: 'code-signing rule', rule: 'W-D5, X1' },
  { check: 'name rules', rule: 'W-A1, W-A3, W-C1' },
  { check: 'manifest digests', rule: 'W-D3' },
] as const;

export type CheckName = (typeof CHECKS)[number]['check'];
export type Verdict = 'pass' | 'fail' | 'not run';

export interface VerifyCheck {
  check: CheckName;
  /** The spec rules (wapt-format.md) the check enforces. */
  rule: string;
  verdict: Verdict;
  /** What was found (pass) or why it failed. */
  detail: string;
  /** The error code of a failed check. */
  code?: string;
}

/**
 * Checks run inside one step of verifyPackage before the one that failed: the trust
 * store walks chain, then revocation, then dates, so a revoked signer had a chain.
 */
const BLAME: Partial<Record<string, { check: CheckName; passed: CheckName[] }>> = {
  SIGNER_MISMATCH: { check: 'signer fingerprint', passed: ['control signature'] },
  CERT_REVOKED: { check: 'revocation', passed: ['chain'] },
  CERT_EXPIRED: { check: 'dates', passed: ['chain', 'revocation'] },
  CERT_NOT_YET_VALID: { check: 'dates', passed: ['chain', 'revocation'] },
};

export class CheckLog {
  private readonly results = new Map<CheckName, Omit<VerifyCheck, 'check' | 'rule'>>();

  constructor(private readonly out: VerifyCheck[] | undefined) {}

  pass(check: CheckName, detail: string): void {
    if (this.out) this.results.set(check, { verdict: 'pass', detail });
  }

  /** Blames `err` on the first check not passed yet (or the one its code names), then writes the list. */
  fail(err: WaptError): void {
    if (!this.out) return;
    const first = CHECKS.find((c) => !this.results.has(c.check))?.check ?? 'zip structure';
    const blame = BLAME[err.code];
    const order = (n: CheckName) => CHECKS.findIndex((c) => c.check === n);
    if (blame && order(blame.check) >= order(first)) {
      for (const p of blame.passed) if (!this.results.has(p)) this.pass(p, 'ok');
      this.results.set(blame.check, { verdict: 'fail', detail: err.message, code: err.code });
    } else {
      this.results.set(first, { verdict: 'fail', detail: err.message, code: err.code });
    }
    this.finish();
  }

  /** Writes every check, in order, to the collector; those never reached are `not run`. */
  finish(): void {
    if (!this.out) return;
    this.out.length = 0;
    for (const { check, rule } of CHECKS) {
      this.out.push({ check, rule, ...(this.results.get(check) ?? { verdict: 'not run', detail: 'an earlier check failed' }) });
    }
  }
}
