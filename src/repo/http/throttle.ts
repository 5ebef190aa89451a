// Token bucket for `limitRateBytesPerSec`: a bandwidth cap for thin branch
// links. Debt is allowed (a chunk may be larger than the bucket); the caller
// then sleeps until the debt is paid, so the long-run rate never exceeds `rate`.
export class TokenBucket {
  private tokens = 0;
  private last = Date.now();
  private readonly burst: number;

  constructor(private readonly rate: number) {
    if (!(rate > 0)) throw new RangeError('rate must be > 0');
    this.burst = Math.max(1024, Math.floor(rate / 10)); // ~100 ms of traffic
  }

  /** Wait until `n` bytes may pass. */
  async take(n: number): Promise<void> {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.tokens -= n;
    if (this.tokens < 0) {
      const ms = (-this.tokens / this.rate) * 1000;
      await new Promise((r) => setTimeout(r, ms));
      // the sleep itself refilled what we owed
      this.tokens = 0;
      this.last = Date.now();
    }
  }
}
