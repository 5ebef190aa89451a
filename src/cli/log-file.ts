// The optional `log_file` of wapt-get.ini: every step, result and hook output line of
// agent runs, with a timestamp, so piped and cron runs keep what a terminal would show.
// Rotated by size (log_file, .1, .2, .3), private (0600), never opened through a symlink.
import { closeSync, constants, fstatSync, openSync, renameSync, statSync, writeSync } from 'node:fs';

const MAX_BYTES = 10 * 1024 * 1024;
const KEEP = 3;

export class LogFile {
  private fd: number | null = null;
  private size = 0;
  private partial = '';

  constructor(
    readonly path: string,
    private readonly maxBytes = MAX_BYTES,
    private readonly keep = KEEP,
  ) {}

  private open(): number {
    if (this.fd !== null) return this.fd;
    const fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    this.size = fstatSync(fd).size;
    this.fd = fd;
    return fd;
  }

  private rotate(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    for (let i = this.keep - 1; i >= 1; i--) {
      try {
        statSync(`${this.path}.${i}`);
        renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      } catch {
        /* no such generation yet */
      }
    }
    renameSync(this.path, `${this.path}.1`);
  }

  /** Appends text; each completed line gets the time in front. */
  write(text: string): void {
    const chunks = (this.partial + text).split('\n');
    this.partial = chunks.pop() ?? '';
    if (chunks.length === 0) return;
    const stamp = new Date().toISOString();
    const data = chunks.map((l) => `${stamp} ${l}\n`).join('');
    if (this.size > 0 && this.size + Buffer.byteLength(data) > this.maxBytes) this.rotate();
    const fd = this.open();
    writeSync(fd, data);
    this.size += Buffer.byteLength(data);
  }

  close(): void {
    if (this.partial) this.write('\n');
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
