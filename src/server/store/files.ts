// The default store: no set-up, one directory. Host records, reports, tombstones and
// actions are JSON files written atomically (temp, fsync, rename); every host's summary
// is held in memory (loaded at start), so lists and the dashboard never read the disk.
// One `serve` per data directory (a pid lock): atomicity is a per-host queue in-process.
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../../atomic-file.js';
import type { ActionOutcome, SignedAction } from '../../protocol/index.js';
import { EnrollTokenFile } from './enroll-file.js';
import { matchesQuery, summarizeHost } from './summary.js';
import type * as T from './types.js';

const JSON_FILE = /^([a-z0-9][a-z0-9._-]*)\.json$/;

async function readJson<V>(path: string): Promise<V | undefined> {
  try {
    return JSON.parse(await fs.readFile(path, 'utf8')) as V;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const writeJson = (path: string, v: unknown, dirExists = false) => atomicWriteFile(path, Buffer.from(JSON.stringify(v) + '\n'), { mode: 0o600, dirExists });

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One serve per data dir: the files store keeps its index in memory. */
async function lockDir(dir: string): Promise<string> {
  const path = join(dir, '.serve.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      await fh.write(`${process.pid}\n`);
      await fh.close();
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await fs.readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new Error(`${dir} is in use by serve pid ${pid} (the files store allows one instance; use --db postgres://… for several)`);
      }
      await fs.rm(path, { force: true });
    }
  }
  throw new Error(`cannot lock ${dir}`);
}

/** Insert into a sorted array of strings (no duplicates). */
function insertSorted(arr: string[], v: string): void {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  if (arr[lo] !== v) arr.splice(lo, 0, v);
}

const RECENT_MAX = 4096;

function firstAfter(arr: readonly string[], after: string | undefined): number {
  if (after === undefined) return 0;
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class FileStore implements T.FleetStore {
  readonly kind = 'files' as const;
  private readonly summaries = new Map<string, T.HostSummary>();
  private readonly keys: string[] = [];
  private readonly byFingerprint = new Map<string, string>();
  private readonly tombstones = new Map<string, T.Tombstone>();
  private readonly recent = new Map<string, T.HostRecord>();
  /** reports/<key> directories made by this process (forget removes one: it leaves the set too). */
  private readonly reportDirs = new Set<string>();
  private readonly actions = new Map<string, T.QueuedAction>();
  private readonly queues = new Map<string, Promise<unknown>>();

  private constructor(
    readonly dir: string,
    private readonly lockPath: string,
    private readonly tokens = new EnrollTokenFile(dir),
  ) {}

  static async open(dataDir: string): Promise<FileStore> {
    for (const sub of ['', 'hosts', 'reports', 'tombstones', 'actions']) await fs.mkdir(join(dataDir, sub), { recursive: true, mode: 0o700 });
    const store = new FileStore(dataDir, await lockDir(dataDir));
    try {
      await store.load();
    } catch (err) {
      await fs.rm(store.lockPath, { force: true });
      throw err;
    }
    return store;
  }

  private async load(): Promise<void> {
    for (const name of await fs.readdir(join(this.dir, 'hosts'))) {
      const m = JSON_FILE.exec(name);
      if (!m) continue;
      const rec = await readJson<T.HostRecord>(join(this.dir, 'hosts', name)).catch(() => undefined);
      if (rec) this.index(m[1]!, rec);
    }
    for (const name of await fs.readdir(join(this.dir, 'tombstones'))) {
      const m = JSON_FILE.exec(name);
      const t = m ? await readJson<T.Tombstone>(join(this.dir, 'tombstones', name)).catch(() => undefined) : undefined;
      if (m && t) this.tombstones.set(m[1]!, t);
    }
    for (const name of await fs.readdir(join(this.dir, 'actions'))) {
      const a = name.endsWith('.json') ? await readJson<T.QueuedAction>(join(this.dir, 'actions', name)).catch(() => undefined) : undefined;
      if (a) this.actions.set(a.id, a);
    }
  }

  private index(key: string, rec: T.HostRecord): void {
    const old = this.summaries.get(key);
    if (old && old.fingerprint !== rec.fingerprint) this.byFingerprint.delete(old.fingerprint);
    this.summaries.set(key, summarizeHost(rec));
    this.byFingerprint.set(rec.fingerprint, key);
    insertSorted(this.keys, key);
  }

  private hostFile(key: string): string {
    return join(this.dir, 'hosts', `${key}.json`);
  }

  /** Runs `fn` alone for this key: check-then-write must not interleave. */
  private exclusive<V>(key: string, fn: () => Promise<V>): Promise<V> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  async getHost(key: string): Promise<T.HostRecord | undefined> {
    const hit = this.recent.get(key);
    if (hit) return hit;
    const rec = await readJson<T.HostRecord>(this.hostFile(key));
    if (rec) this.remember(key, rec);
    return rec;
  }

  /** A report reads its host twice (verify, then accept): recent records stay in memory. Never mutated. */
  private remember(key: string, rec: T.HostRecord | undefined): void {
    this.recent.delete(key);
    if (!rec) return;
    if (this.recent.size >= RECENT_MAX) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(key, rec);
  }

  async getTombstone(key: string): Promise<T.Tombstone | undefined> {
    return this.tombstones.get(key);
  }

  private async keepReport(key: string, type: 'inventory' | 'status', seq: number, at: string, claim: T.HostRecord['inventory']): Promise<void> {
    const dir = join(this.dir, 'reports', key);
    if (!this.reportDirs.has(key)) {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      this.reportDirs.add(key);
    }
    const report: T.StoredReport = { host_uuid: claim!.host_uuid as string, sequence: seq, report_type: type, received_at: at, claim: claim! };
    await writeJson(join(dir, `${Date.parse(at)}-${seq}-${type}.json`), report, true);
  }

  register(input: T.RegisterInput): Promise<T.AcceptResult> {
    // the fingerprint check spans hosts: one queue for every registration
    return this.exclusive('\0register', () =>
      this.exclusive(input.key, async () => {
        const old = await this.getHost(input.key);
        if (old && old.fingerprint !== input.fingerprint) return { ok: false, reason: 'CERT_CONFLICT' } as const;
        const owner = this.byFingerprint.get(input.fingerprint);
        if (owner !== undefined && owner !== input.key) return { ok: false, reason: 'CERT_IN_USE' } as const;
        const floor = Math.max(old?.last_sequence ?? 0, this.tombstones.get(input.key)?.last_sequence ?? 0);
        if (input.sequence <= floor) return { ok: false, reason: 'REPLAY', last: floor } as const;
        const rec: T.HostRecord = {
          host_uuid: input.uuid,
          certificate: input.certificate,
          fingerprint: input.fingerprint,
          registered_at: old?.registered_at ?? input.at,
          last_seen: input.at,
          last_sequence: input.sequence,
          hostname: input.hostname || old?.hostname || '',
          inventory: input.claim,
          inventory_at: input.at,
          status: old?.status ?? null,
          status_at: old?.status_at ?? null,
        };
        await writeJson(this.hostFile(input.key), rec, true);
        this.remember(input.key, rec);
        await this.keepReport(input.key, 'inventory', input.sequence, input.at, input.claim);
        this.index(input.key, rec);
        return { ok: true, created: !old } as const;
      }),
    );
  }

  acceptStatus(input: T.StatusInput): Promise<T.AcceptResult> {
    return this.exclusive(input.key, async () => {
      const old = await this.getHost(input.key);
      if (!old) return { ok: false, reason: 'UNKNOWN_HOST' } as const;
      if (old.fingerprint !== input.fingerprint) return { ok: false, reason: 'SIGNER_MISMATCH' } as const;
      if (input.sequence <= old.last_sequence) return { ok: false, reason: 'REPLAY', last: old.last_sequence } as const;
      const rec: T.HostRecord = { ...old, last_seen: input.at, last_sequence: input.sequence, hostname: input.hostname || old.hostname };
      if (input.claim && !input.keepState) {
        rec.status = input.claim;
        rec.status_at = input.at;
      }
      await writeJson(this.hostFile(input.key), rec, true);
      this.remember(input.key, rec);
      if (input.claim) await this.keepReport(input.key, 'status', input.sequence, input.at, input.claim);
      this.index(input.key, rec);
      return { ok: true, created: false } as const;
    });
  }

  forget(key: string, at: string): Promise<boolean> {
    return this.exclusive('\0register', () =>
      this.exclusive(key, async () => {
        const rec = await this.getHost(key);
        if (!rec) return false;
        const t: T.Tombstone = { host_uuid: rec.host_uuid, fingerprint: rec.fingerprint, last_sequence: rec.last_sequence, forgotten_at: at };
        await writeJson(join(this.dir, 'tombstones', `${key}.json`), t);
        this.tombstones.set(key, t);
        await fs.rm(this.hostFile(key), { force: true });
        this.remember(key, undefined);
        await fs.rm(join(this.dir, 'reports', key), { recursive: true, force: true });
        this.reportDirs.delete(key);
        this.summaries.delete(key);
        if (this.byFingerprint.get(rec.fingerprint) === key) this.byFingerprint.delete(rec.fingerprint);
        const i = this.keys.indexOf(key);
        if (i !== -1) this.keys.splice(i, 1);
        return true;
      }),
    );
  }

  async listHosts(q: T.HostQuery): Promise<T.HostPage> {
    const hosts: T.HostSummary[] = [];
    for (let i = firstAfter(this.keys, q.after); i < this.keys.length; i++) {
      const h = this.summaries.get(this.keys[i]!)!;
      if (!matchesQuery(h, q)) continue;
      if (hosts.length === q.limit) return { hosts, next: hosts[hosts.length - 1]!.host_uuid.toLowerCase() };
      hosts.push(h);
    }
    return { hosts, next: null };
  }

  async countHosts(): Promise<number> {
    return this.summaries.size;
  }

  async packageStats(): Promise<T.PackageStat[]> {
    const stats = new Map<string, T.PackageStat>();
    for (const h of this.summaries.values()) {
      for (const p of h.packages) {
        const k = `${p.package}\0${p.version}`;
        let s = stats.get(k);
        if (!s) stats.set(k, (s = { package: p.package, version: p.version, OK: 0, ERROR: 0, 'NEED-UPGRADE': 0, pending: 0 }));
        s[p.state]++;
      }
    }
    return [...stats.values()].sort((a, b) => (a.package === b.package ? (a.version < b.version ? -1 : 1) : a.package < b.package ? -1 : 1));
  }

  async packageHosts(name: string, state: T.PackageState | undefined, limit: number, after?: string): Promise<T.HostPage> {
    const hosts: T.HostSummary[] = [];
    for (let i = firstAfter(this.keys, after); i < this.keys.length; i++) {
      const h = this.summaries.get(this.keys[i]!)!;
      if (!h.packages.some((p) => p.package === name && (!state || p.state === state))) continue;
      if (hosts.length === limit) return { hosts, next: hosts[hosts.length - 1]!.host_uuid.toLowerCase() };
      hosts.push(h);
    }
    return { hosts, next: null };
  }

  async *exportHosts(): AsyncIterable<T.HostSummary> {
    for (const k of [...this.keys]) {
      const h = this.summaries.get(k);
      if (h) yield h;
    }
  }

  async reportHistory(key: string, limit: number): Promise<T.StoredReport[]> {
    const dir = join(this.dir, 'reports', key);
    const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => /^\d+-\d+-\w+\.json$/.test(n));
    names.sort((a, b) => Number(b.split('-')[1]) - Number(a.split('-')[1]));
    const out: T.StoredReport[] = [];
    for (const n of names.slice(0, limit)) {
      const r = await readJson<T.StoredReport>(join(dir, n)).catch(() => undefined);
      if (r) out.push(r);
    }
    return out;
  }

  addEnrollToken(t: T.EnrollToken): Promise<void> {
    return this.tokens.add(t);
  }

  listEnrollTokens(): Promise<T.EnrollToken[]> {
    return this.tokens.read();
  }

  revokeEnrollToken(id: string, at: string): Promise<boolean> {
    return this.tokens.revoke(id, at);
  }

  useEnrollToken(hash: string, now: Date): Promise<T.TokenVerdict> {
    return this.tokens.use(hash, now);
  }

  private actionFile(id: string): string {
    return join(this.dir, 'actions', `${id}.json`);
  }

  async queueAction(a: T.QueuedAction): Promise<void> {
    await writeJson(this.actionFile(a.id), a);
    this.actions.set(a.id, a);
  }

  async pendingActions(key: string, now: Date): Promise<SignedAction[]> {
    const out: T.QueuedAction[] = [];
    for (const a of this.actions.values()) if (a.host_key === key && !a.outcome && Date.parse(a.not_after) >= now.getTime()) out.push(a);
    return out.sort((x, y) => x.queued_at.localeCompare(y.queued_at)).map((a) => a.action);
  }

  async recordOutcomes(key: string, outcomes: readonly ActionOutcome[]): Promise<void> {
    for (const o of outcomes) {
      const a = this.actions.get(o.id);
      if (!a || a.host_key !== key || a.outcome) continue;
      a.outcome = o;
      await writeJson(this.actionFile(a.id), a);
    }
  }

  async listActions(limit: number, key?: string): Promise<T.QueuedAction[]> {
    return [...this.actions.values()]
      .filter((a) => !key || a.host_key === key)
      .sort((x, y) => y.queued_at.localeCompare(x.queued_at))
      .slice(0, limit);
  }

  async prune(now: Date, keepReportsMs: number | null, expireHostsMs: number | null): Promise<T.PruneResult> {
    let reports = 0;
    let hosts = 0;
    if (expireHostsMs !== null) {
      for (const [key, h] of [...this.summaries]) {
        if (now.getTime() - Date.parse(h.last_seen) > expireHostsMs && (await this.forget(key, now.toISOString()))) hosts++;
      }
    }
    if (keepReportsMs !== null) {
      const cutoff = now.getTime() - keepReportsMs;
      for (const key of [...this.keys]) {
        const dir = join(this.dir, 'reports', key);
        for (const n of await fs.readdir(dir).catch(() => [] as string[])) {
          if (Number(n.split('-')[0]) < cutoff) {
            await fs.rm(join(dir, n), { force: true });
            reports++;
          }
        }
      }
    }
    return { reports, hosts };
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()]);
    await fs.rm(this.lockPath, { force: true });
  }
}
