// B2: every admin request, registration and forget is appended to <data>/audit.ndjson
// (0600, never opened through a symlink). One JSON object per line.
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { FleetStore } from '../store/index.js';

export const AUDIT_FILE = 'audit.ndjson';

export interface AuditEntry {
  event:
    | 'admin'
    | 'register'
    | 'forget'
    | 'action-queued'
    | 'package-upload'
    | 'package-upload-refused'
    | 'host-package-upload'
    | 'host-package-upload-refused'
    | 'unregister';
  who?: string;
  role?: string;
  method?: string;
  path?: string;
  status?: number;
  remote?: string;
  host_uuid?: string;
  detail?: Record<string, unknown>;
}

export class AuditLog {
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    private readonly fh: fs.FileHandle,
    readonly path: string,
    private readonly now: () => Date,
    private readonly store?: Pick<FleetStore, 'recordAudit'>,
  ) {}

  /** With a store that keeps audit lines (PostgreSQL), each line goes to both. */
  static async open(dataDir: string, now: () => Date = () => new Date(), store?: Pick<FleetStore, 'recordAudit'>): Promise<AuditLog> {
    const path = join(dataDir, AUDIT_FILE);
    const fh = await fs.open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    await fh.chmod(0o600);
    return new AuditLog(fh, path, now, store);
  }

  /** Appends in call order; a write failure is returned to the caller, not swallowed. */
  append(entry: AuditEntry): Promise<void> {
    const record = { at: this.now().toISOString(), ...entry };
    const line = JSON.stringify(record) + '\n';
    const next = this.chain.then(async () => {
      await this.fh.write(line);
      await this.store?.recordAudit?.(record);
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.fh.close();
  }
}
