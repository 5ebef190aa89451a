// F3A "its id was never run": the ids of actions this host accepted, kept until their
// not_after has passed (an expired action is refused anyway). <dbdir>/actions/done.json,
// 0600 in a 0700 directory. An id is recorded BEFORE the action runs: at most once.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../../atomic-file.js';
import { privateDir } from '../report/private-dir.js';

export class ActionRunLog {
  private constructor(
    private readonly file: string,
    private readonly done: Map<string, string>,
  ) {}

  static async open(dbdir: string): Promise<ActionRunLog> {
    const dir = join(dbdir, 'actions');
    await privateDir(dir);
    const file = join(dir, 'done.json');
    let done = new Map<string, string>();
    try {
      done = new Map(Object.entries(JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, string>));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return new ActionRunLog(file, done);
  }

  has(id: string): boolean {
    return this.done.has(id);
  }

  async record(id: string, notAfter: string, now: Date = new Date()): Promise<void> {
    for (const [k, until] of this.done) if (Date.parse(until) + 3600_000 < now.getTime()) this.done.delete(k);
    this.done.set(id, notAfter);
    await atomicWriteFile(this.file, Buffer.from(JSON.stringify(Object.fromEntries(this.done)) + '\n'), { mode: 0o600 });
  }
}
