// `serve --upstream URL`: a branch office's serve forwards every report it accepted,
// unchanged (the host's own signature and sequence travel end to end, so head office
// re-verifies and its replay check still holds), from an on-disk queue that survives
// restarts and an upstream that is down. Actions head office hands back in its answers
// are queued here for the host (the agent still verifies them itself).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../atomic-file.js';
import { postJson, type HttpOptions } from '../repo/index.js';
import type { RelayedKind, SignedAction } from '../protocol/index.js';
import { hostKey, type FleetStore } from './store/index.js';

export const RELAY_DIR = 'relay-queue';
const ENTRY_RE = /^\d{16}-\d{4}-(register|status|unregister)\.json$/;

export interface RelayOptions {
  dataDir: string;
  /** Head office's serve, e.g. https://head:8443 */
  upstream: string;
  http: HttpOptions;
  store: FleetStore;
  log: (line: string) => void;
  retryMs?: number;
}

let counter = 0;

export class Relay {
  private wake: (() => void) | null = null;
  /** Set by enqueue: an entry arrived while the loop was reading the queue (no lost wake-up). */
  private arrived = false;
  private stopped = false;
  private running: Promise<void> | null = null;

  private constructor(
    private readonly dir: string,
    private readonly o: RelayOptions,
  ) {}

  static async open(o: RelayOptions): Promise<Relay> {
    const dir = join(o.dataDir, RELAY_DIR);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    return new Relay(dir, o);
  }

  /** Queued before the host gets its answer: an accepted report is never lost. */
  async enqueue(kind: RelayedKind, body: Record<string, unknown>): Promise<void> {
    const name = `${String(Date.now() * 1000 + (counter % 1000)).padStart(16, '0')}-${String(counter++ % 10000).padStart(4, '0')}-${kind}.json`;
    await atomicWriteFile(join(this.dir, name), Buffer.from(JSON.stringify(body)), { mode: 0o600 });
    this.arrived = true;
    this.wake?.();
  }

  async pending(): Promise<string[]> {
    return (await fs.readdir(this.dir)).filter((n) => ENTRY_RE.test(n)).sort();
  }

  start(): void {
    this.running ??= this.loop();
  }

  private async loop(): Promise<void> {
    let backoff = this.o.retryMs ?? 1000;
    while (!this.stopped) {
      this.arrived = false;
      const names = await this.pending().catch(() => [] as string[]);
      let failed = false;
      for (const name of names) {
        if (this.stopped) return;
        if (!(await this.forward(name))) {
          failed = true;
          break;
        }
      }
      if (!failed) backoff = this.o.retryMs ?? 1000;
      // An entry queued while we read the directory would otherwise wait for the next 60 s tick.
      if (!failed && this.arrived) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, failed ? backoff : 60_000);
        t.unref();
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
      if (failed) backoff = Math.min(backoff * 2, 60_000);
    }
  }

  /** True when the entry is done with (accepted, or refused for good); false to retry later. */
  private async forward(name: string): Promise<boolean> {
    const kind = ENTRY_RE.exec(name)![1] as RelayedKind;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await fs.readFile(join(this.dir, name), 'utf8')) as Record<string, unknown>;
    } catch {
      await fs.rm(join(this.dir, name), { force: true });
      return true;
    }
    let res;
    try {
      res = await postJson(`${this.o.upstream.replace(/\/+$/, '')}/api/v1/${kind}`, body, this.o.http);
    } catch (err) {
      this.o.log(`relay: upstream unreachable (${(err as Error).message}); ${name} stays queued`);
      return false;
    }
    if (res.status >= 500 || res.status === 429) {
      this.o.log(`relay: upstream answered ${res.status}; ${name} stays queued`);
      return false;
    }
    if (res.status >= 300) {
      const code = typeof res.body === 'object' && res.body !== null ? String((res.body as Record<string, unknown>).code ?? '') : '';
      this.o.log(`relay: upstream refused ${name}: ${res.status} ${code.slice(0, 40)} (dropped: it would be refused again)`);
    } else if (kind === 'status') {
      await this.keepActions(res.body);
    }
    await fs.rm(join(this.dir, name), { force: true });
    return true;
  }

  private async keepActions(answer: unknown): Promise<void> {
    const actions = typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>).actions : undefined;
    if (!Array.isArray(actions)) return;
    for (const a of actions as SignedAction[]) {
      const key = hostKey(a?.host_uuid);
      if (!key || typeof a.id !== 'string' || typeof a.not_after !== 'string') continue;
      const known = (await this.o.store.listActions(500, key)).some((x) => x.id === a.id);
      if (!known)
        await this.o.store.queueAction({
          id: a.id,
          host_key: key,
          action: a,
          queued_by: 'upstream',
          queued_at: new Date().toISOString(),
          not_after: a.not_after,
          outcome: null,
        });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }
}
