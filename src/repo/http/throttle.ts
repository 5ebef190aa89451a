// Token bucket for `limitRateBytesPerSec`: a bandwidth cap for thin branch
// links, shared by every transfer of a run (issue 12 §4: four parallel
// downloads under `--limit-rate 1M` share 1 MB/s, they do not get 1 MB/s each).
// Kept as a virtual clock: each take() books its bytes after those already
// booked, so concurrent takers queue fairly and debt is never forgotten; a
// burst of ~100 ms of traffic may pass at once after an idle spell.
export class TokenBucket {
  /** Epoch ms at which every byte booked so far has been paid for. */
  private paidUntil = 0;
  private readonly burstMs = 100;

  constructor(private readonly rate: number) {
    if (!(rate > 0)) throw new RangeError('rate must be > 0');
  }

  /** Wait until `n` bytes may pass. */
  async take(n: number): Promise<void> {
    const now = Date.now();
    this.paidUntil = Math.max(this.paidUntil, now - this.burstMs) + (n / this.rate) * 1000;
    const ms = this.paidUntil - now;
    // +1: the timer runs off the loop's cached clock, which may lag Date.now() by a millisecond
    if (ms > 0) await new Promise((r) => setTimeout(r, Math.ceil(ms) + 1));
  }
}

const shared = new Map<number, TokenBucket>();

/**
 * The one bucket of this process for `rate`: every HttpClient (one per
 * repository) and every transfer of a run draws from it, so the cap holds for
 * the run as a whole.
 */
export function sharedBucket(rate: number): TokenBucket {
  let b = shared.get(rate);
  if (!b) {
    b = new TokenBucket(rate);
    shared.set(rate, b);
  }
  return b;
}
