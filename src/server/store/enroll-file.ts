// Enrolment tokens of the files store: <data>/enroll-tokens.json (0600). `serve` and
// `wapt-get serve-admin enroll-token` both change it, so every change is made under a
// lock file (O_EXCL, stale after 30 s) and re-reads the file first: a token created or
// revoked while serve runs takes effect at once, and a use is never counted twice.
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../../atomic-file.js';
import type { EnrollToken, TokenVerdict } from './types.js';

export class EnrollTokenFile {
  private readonly file: string;
  private readonly lock: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'enroll-tokens.json');
    this.lock = join(dataDir, '.enroll-tokens.lock');
  }

  async read(): Promise<EnrollToken[]> {
    try {
      return JSON.parse(await fs.readFile(this.file, 'utf8')) as EnrollToken[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  private async locked<V>(fn: (tokens: EnrollToken[]) => Promise<{ value: V; write: boolean }>): Promise<V> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await (await fs.open(this.lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)).close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const st = await fs.stat(this.lock).catch(() => null);
        if (st && Date.now() - st.mtimeMs > 30_000) await fs.rm(this.lock, { force: true });
        if (Date.now() > deadline) throw new Error(`${this.lock} is held: another serve-admin or serve is changing enrolment tokens`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    try {
      const tokens = await this.read();
      const r = await fn(tokens);
      if (r.write) await atomicWriteFile(this.file, Buffer.from(JSON.stringify(tokens, null, 1) + '\n'), { mode: 0o600 });
      return r.value;
    } finally {
      await fs.rm(this.lock, { force: true });
    }
  }

  add(t: EnrollToken): Promise<void> {
    return this.locked(async (tokens) => {
      tokens.push(t);
      return { value: undefined, write: true };
    });
  }

  revoke(id: string, at: string): Promise<boolean> {
    return this.locked(async (tokens) => {
      const t = tokens.find((x) => x.id === id);
      if (!t || t.revoked_at) return { value: false, write: false };
      t.revoked_at = at;
      return { value: true, write: true };
    });
  }

  use(hash: string, now: Date): Promise<TokenVerdict> {
    return this.locked(async (tokens) => {
      const t = tokens.find((x) => x.hash === hash);
      const v = verdictOf(t, now);
      if (v === 'OK') t!.uses_left--;
      return { value: v, write: v === 'OK' };
    });
  }
}

/** The one rule both backends apply (PostgreSQL in SQL, with the same order). */
export function verdictOf(t: EnrollToken | undefined, now: Date): TokenVerdict {
  if (!t) return 'UNKNOWN';
  if (t.revoked_at) return 'REVOKED';
  if (Date.parse(t.expires_at) <= now.getTime()) return 'EXPIRED';
  if (t.uses_left <= 0) return 'USED_UP';
  return 'OK';
}
