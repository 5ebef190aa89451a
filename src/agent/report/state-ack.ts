// The state hash the server last confirmed holding (<dbdir>/outbox/.state-acked, 0600): while
// the host's state matches it, reports send only the hash (delta reports).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../../atomic-file.js';

const FILE = '.state-acked';

export async function readAcked(dir: string): Promise<string | null> {
  const text = await fs.readFile(join(dir, FILE), 'utf8').catch(() => '');
  return /^[0-9a-f]{64}$/.test(text.trim()) ? text.trim() : null;
}

export async function writeAcked(dir: string, hash: string | null): Promise<void> {
  if (hash === null) await fs.rm(join(dir, FILE), { force: true });
  else await atomicWriteFile(join(dir, FILE), `${hash}\n`, { mode: 0o600 });
}
