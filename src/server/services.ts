// What runs beside the HTTP side of `serve --data-dir`: the relay forwarder (--upstream)
// and retention (--keep-reports, --expire-hosts), hourly.
import type { HttpOptions } from '../repo/index.js';
import type { Management } from './registry/index.js';
import { Relay } from './relay.js';

export interface FleetServicesOptions {
  dataDir: string;
  upstream?: { upstream: string; http: HttpOptions };
  keepReportsMs: number | null;
  expireHostsMs: number | null;
  log: (line: string) => void;
  retryMs?: number;
}

export async function startFleetServices(m: Management, o: FleetServicesOptions): Promise<{ relay: Relay | null; stop(): Promise<void> }> {
  let relay: Relay | null = null;
  if (o.upstream) {
    relay = await Relay.open({ dataDir: o.dataDir, upstream: o.upstream.upstream, http: o.upstream.http, store: m.store, log: o.log, retryMs: o.retryMs });
    const r = relay;
    m.hooks.onAccepted = (kind, body) => r.enqueue(kind, body);
    const queued = (await relay.pending()).length;
    if (queued) o.log(`relay: ${queued} reports queued from an earlier run`);
    relay.start();
  }
  let timer: NodeJS.Timeout | null = null;
  if (o.keepReportsMs !== null || o.expireHostsMs !== null) {
    const prune = () =>
      m.store
        .prune(new Date(), o.keepReportsMs, o.expireHostsMs)
        .then((r) => (r.reports || r.hosts) && o.log(`retention: ${r.reports} reports deleted, ${r.hosts} hosts forgotten`))
        .catch((err: Error) => o.log(`retention failed: ${err.message}`));
    void prune();
    timer = setInterval(prune, 3600_000);
    timer.unref();
  }
  return {
    relay,
    async stop() {
      if (timer) clearInterval(timer);
      m.hooks.onAccepted = undefined;
      await relay?.stop();
    },
  };
}
