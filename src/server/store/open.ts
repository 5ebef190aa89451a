// `--db` picks the backend: absent → files in --data-dir; postgres://… → PostgreSQL.
import { FileStore } from './files.js';
import type { FleetStore } from './types.js';

export interface StoreOptions {
  dataDir: string;
  /** postgres://user@host:port/db, or undefined for the files store. */
  db?: string;
}

export async function openStore(o: StoreOptions): Promise<FleetStore> {
  if (o.db && /^postgres(ql)?:\/\//.test(o.db)) {
    const { PgStore } = await import('./pg.js');
    return PgStore.open(o.db);
  }
  return FileStore.open(o.dataDir);
}

/** Only the enrolment-token side, without the files store's one-serve lock (serve may be running). */
export async function openTokenStore(o: StoreOptions): Promise<Pick<FleetStore, 'addEnrollToken' | 'listEnrollTokens' | 'revokeEnrollToken' | 'close'>> {
  if (o.db && /^postgres(ql)?:\/\//.test(o.db)) return openStore(o);
  const { EnrollTokenFile } = await import('./enroll-file.js');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const f = new EnrollTokenFile(o.dataDir);
  return {
    addEnrollToken: (t) => f.add(t),
    listEnrollTokens: () => f.read(),
    revokeEnrollToken: (id, at) => f.revoke(id, at),
    close: async () => undefined,
  };
}
