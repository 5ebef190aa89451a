// Registered hosts, one JSON file per host: <data-dir>/hosts/<uuid>.json, replaced
// atomically (temp, fsync, rename). Read from disk on every request, so an admin
// forgets a host by deleting its file — no restart needed.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { SignedClaim } from '../../protocol/index.js';
import { atomicWriteFile } from '../../atomic-file.js';

export interface HostRecord {
  host_uuid: string;
  /** PEM of the certificate pinned at first registration. */
  certificate: string;
  fingerprint: string;
  registered_at: string;
  last_seen: string;
  /** Highest report sequence accepted (replay protection, ours). */
  last_sequence: number;
  hostname: string;
  /** The signed claims as received, so anyone can verify them again. */
  inventory: SignedClaim | null;
  inventory_at: string | null;
  status: SignedClaim | null;
  status_at: string | null;
}

/** Host UUIDs become file names: letters, digits, `.`, `_`, `-`, not starting with a dot. */
const UUID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The store key (lowercase: UUIDs are hex, and file systems may fold case), or null if unusable. */
export function hostKey(uuid: unknown): string | null {
  return typeof uuid === 'string' && UUID_RE.test(uuid) ? uuid.toLowerCase() : null;
}

export class HostStore {
  private readonly queues = new Map<string, Promise<unknown>>();

  private constructor(readonly dir: string) {}

  static async open(dataDir: string): Promise<HostStore> {
    const dir = join(dataDir, 'hosts');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    return new HostStore(dir);
  }

  private file(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  async get(key: string): Promise<HostRecord | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file(key), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return JSON.parse(text) as HostRecord;
  }

  async put(record: HostRecord): Promise<void> {
    const key = hostKey(record.host_uuid);
    if (!key) throw new Error(`unusable host uuid ${JSON.stringify(record.host_uuid)}`);
    await atomicWriteFile(this.file(key), Buffer.from(JSON.stringify(record, null, 1) + '\n'), { defaultMode: 0o600 });
  }

  /** Every readable host record, and the files that could not be read (shown, never fatal). */
  async list(): Promise<{ hosts: HostRecord[]; unreadable: string[] }> {
    const names = (await fs.readdir(this.dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
    const hosts: HostRecord[] = [];
    const unreadable: string[] = [];
    for (const name of names) {
      try {
        hosts.push(JSON.parse(await fs.readFile(join(this.dir, name), 'utf8')) as HostRecord);
      } catch {
        unreadable.push(name);
      }
    }
    return { hosts, unreadable };
  }

  /** Runs `fn` alone for this host: check-then-write of the sequence must not interleave. */
  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }
}
