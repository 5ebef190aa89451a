// Downloads run `limit` at a time (max_parallel_downloads, issue 12 §4), started in
// plan order, each settling on its own: one failing transfer never stops the others
// (its `.part` stays for resume, cache.ts/client.ts). Installs stay one at a time in
// plan order (execute.ts): they only wait for the download they need.

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface Pool<T> {
  /** The item's result; never rejects. */
  result(index: number): Promise<Settled<T>>;
  /** Start nothing more (items not yet started settle with `stopped`). */
  stop(stopped: unknown): void;
  /** Every started item has settled. */
  drained(): Promise<void>;
}

/** Runs `fn` over `items`, at most `limit` at once, starting them in order. */
export function runLimited<I, T>(items: readonly I[], limit: number, fn: (item: I, index: number) => Promise<T>): Pool<T> {
  const resolvers: ((s: Settled<T>) => void)[] = [];
  const results = items.map(() => new Promise<Settled<T>>((r) => resolvers.push(r)));
  const running = new Set<Promise<void>>();
  let next = 0;
  let stopped: { why: unknown } | null = null;
  const launch = (): void => {
    while (!stopped && running.size < Math.max(1, limit) && next < items.length) {
      const i = next++;
      const p: Promise<void> = fn(items[i]!, i)
        .then(
          (value) => resolvers[i]!({ ok: true, value }),
          (error: unknown) => resolvers[i]!({ ok: false, error }),
        )
        .finally(() => {
          running.delete(p);
          launch();
        });
      running.add(p);
    }
  };
  launch();
  return {
    result: (i) => results[i]!,
    stop(why) {
      if (stopped) return;
      stopped = { why };
      for (; next < items.length; next++) resolvers[next]!({ ok: false, error: why });
    },
    async drained() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
