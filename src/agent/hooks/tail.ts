// Bounded text capture: a hook may print gigabytes; we keep only the last `max` characters.

export class Tail {
  private chunks: string[] = [];
  private size = 0;
  private dropped = false;

  constructor(private readonly max: number) {}

  push(text: string): void {
    if (!text) return;
    this.chunks.push(text);
    this.size += text.length;
    while (this.size > this.max && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const excess = this.size - this.max;
      this.dropped = true;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.slice(excess);
        this.size -= excess;
      }
    }
  }

  /** True once anything was discarded, so callers can say the output was cut. */
  get truncated(): boolean {
    return this.dropped;
  }

  toString(): string {
    return this.chunks.join('');
  }
}
