// Limits on one transfer beyond the per-read timeout, which a server dripping a byte now
// and then never trips: an overall deadline (transfer_timeout) and a minimum rate
// (low_speed_limit bytes/s averaged over low_speed_time, as curl's --speed-limit and
// --speed-time). When one fires, the request is aborted and the error names it.
import { WaptError } from '../../errors.js';
import { redactUrl } from './errors.js';

export interface TransferLimits {
  /** Whole transfer, retries included; 0 = none. */
  transferTimeoutMs: number;
  /** Bytes/s; 0 = no minimum. */
  lowSpeedLimit: number;
  /** Window the average is taken over. */
  lowSpeedTimeMs: number;
}

export const NO_TRANSFER_LIMITS: TransferLimits = { transferTimeoutMs: 0, lowSpeedLimit: 0, lowSpeedTimeMs: 0 };

/** Which limit fired: `detail.limit` of a TIMEOUT error. */
export type TransferLimitName = 'transfer_timeout' | 'low_speed' | 'timeout';

export function limitFired(err: WaptError): TransferLimitName | undefined {
  return err.code === 'TIMEOUT' ? (err.detail.limit as TransferLimitName | undefined) : undefined;
}

/** One attempt of a transfer: abort signal, byte counter, and the error that ended it. */
export class Watchdog {
  readonly controller = new AbortController();
  error: WaptError | null = null;
  private received = 0;
  private readonly samples: { at: number; bytes: number }[] = [];
  private readonly timers: NodeJS.Timeout[] = [];

  /** `deadline`: epoch ms when the whole transfer must be over (0 = none). */
  constructor(
    private readonly url: string,
    private readonly limits: TransferLimits,
    deadline: number,
  ) {
    const start = Date.now();
    if (deadline > 0) {
      this.timers.push(
        setTimeout(
          () =>
            this.fire('transfer_timeout', `transfer of ${redactUrl(url)} did not finish within transfer_timeout (${secs(limits.transferTimeoutMs)} s)`, {
              seconds: limits.transferTimeoutMs / 1000,
            }),
          Math.max(0, deadline - start),
        ),
      );
    }
    if (limits.lowSpeedLimit > 0 && limits.lowSpeedTimeMs > 0) {
      this.samples.push({ at: start, bytes: 0 });
      const every = Math.min(1000, Math.max(50, limits.lowSpeedTimeMs / 4));
      this.timers.push(setInterval(() => this.checkRate(), every));
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  count(n: number): void {
    this.received += n;
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
  }

  private checkRate(): void {
    const now = Date.now();
    this.samples.push({ at: now, bytes: this.received });
    const windowStart = now - this.limits.lowSpeedTimeMs;
    // the newest sample at or before the window start: the bytes the window began with
    let i = -1;
    for (let k = 0; k < this.samples.length && this.samples[k]!.at <= windowStart; k++) i = k;
    if (i < 0) return; // not running for a whole window yet
    const since = this.samples[i]!;
    this.samples.splice(0, i); // keep the window start
    const got = this.received - since.bytes;
    const rate = got / ((now - since.at) / 1000);
    if (rate < this.limits.lowSpeedLimit) {
      this.fire(
        'low_speed',
        `transfer of ${redactUrl(this.url)} ran slower than low_speed_limit (${this.limits.lowSpeedLimit} bytes/s) for low_speed_time (${secs(this.limits.lowSpeedTimeMs)} s): ${got} bytes in ${secs(now - since.at)} s`,
        { low_speed_limit: this.limits.lowSpeedLimit, low_speed_time: this.limits.lowSpeedTimeMs / 1000, bytes_in_window: got },
      );
    }
  }

  private fire(limit: TransferLimitName, message: string, extra: Record<string, unknown>): void {
    if (this.error) return;
    this.error = new WaptError('TIMEOUT', message, { detail: { url: redactUrl(this.url), limit, received: this.received, ...extra } });
    this.stop();
    this.controller.abort(this.error);
  }
}

function secs(ms: number): number {
  return Math.round(ms / 100) / 10;
}
