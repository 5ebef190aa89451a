// The report outbox (<dbdir>/outbox/, 0700): every automatic report is queued here first
// and removed once the server took it, so a server that is down loses nothing and the
// next run sends the queue in order. Entries hold the operation's events, not a signed
// claim: each is signed when sent (fresh sequence and signature_date), with the host's
// state at that moment, so the newest state always goes out. Bounded: past `max` entries
// the oldest are dropped and the count travels with the next one.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../../atomic-file.js';
import type { ActionOutcome, ReportEvent, ReportOp } from '../../protocol/index.js';
import { privateDir } from './private-dir.js';

export const OUTBOX_DIR = 'outbox';
const ENTRY_RE = /^(\d{16})-(\d{6})\.json$/;

export interface OutboxEntry {
  op: ReportOp;
  events: ReportEvent[];
  action_results: ActionOutcome[];
  created_at: string;
  /** Reports dropped before this one because the outbox was full. */
  dropped_before: number;
}

let counter = 0;

export class Outbox {
  private constructor(
    readonly dir: string,
    readonly max: number,
  ) {}

  static async open(dbdir: string, max: number): Promise<Outbox> {
    const dir = join(dbdir, OUTBOX_DIR);
    await privateDir(dir);
    return new Outbox(dir, max);
  }

  /** Entry file names, oldest first. */
  async names(): Promise<string[]> {
    return (await fs.readdir(this.dir)).filter((n) => ENTRY_RE.test(n)).sort();
  }

  async add(e: Omit<OutboxEntry, 'dropped_before' | 'created_at'>, now: Date = new Date()): Promise<string> {
    const names = await this.names();
    let dropped = 0;
    for (const n of names.slice(0, Math.max(0, names.length - this.max + 1))) {
      const old = await this.read(n);
      dropped += 1 + (old?.dropped_before ?? 0);
      await fs.rm(join(this.dir, n), { force: true });
    }
    const stamp = String(now.getTime() * 1000 + (counter++ % 1000)).padStart(16, '0');
    const name = `${stamp}-${String(process.pid % 1_000_000).padStart(6, '0')}.json`;
    const entry: OutboxEntry = { ...e, created_at: now.toISOString(), dropped_before: dropped };
    await atomicWriteFile(join(this.dir, name), Buffer.from(JSON.stringify(entry) + '\n'), { mode: 0o600 });
    return name;
  }

  async read(name: string): Promise<OutboxEntry | undefined> {
    try {
      return JSON.parse(await fs.readFile(join(this.dir, name), 'utf8')) as OutboxEntry;
    } catch {
      return undefined; // a torn or foreign file is dropped by the sender
    }
  }

  async remove(name: string): Promise<void> {
    await fs.rm(join(this.dir, name), { force: true });
  }
}
