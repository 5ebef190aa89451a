// B2: every admin request, registration and forget is appended to <data>/audit.ndjson
// (0600, never opened through a symlink). One JSON object per line.
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';

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
  ) {}

  static async open(dataDir: string, now: () => Date = () => new Date()): Promise<AuditLog> {
    const path = join(dataDir, AUDIT_FILE);
    const fh = await fs.open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    await fh.chmod(0o600);
    return new AuditLog(fh, path, now);
  }

  /** Appends in call order; a write failure is returned to the caller, not swallowed. */
  append(entry: AuditEntry): Promise<void> {
    const line = JSON.stringify({ at: this.now().toISOString(), ...entry }) + '\n';
    const next = this.chain.then(() => this.fh.write(line).then(() => undefined));
    this.chain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.fh.close();
  }
}
