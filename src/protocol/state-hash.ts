// "Reports carry only what changed": the host's state section (packages and pending
// upgrades) is summarised by the SHA-256 of its canonical JSON; when the server already holds
// that state, a report may leave the section out and send only the hash (WAPT sends section
// hashes the same way). Agent and server compute it here, identically.
import { createHash } from 'node:crypto';
import { pyJsonStringify } from '../package/index.js';

export function stateSha256(packages: unknown, pendingUpgrades: unknown): string {
  return createHash('sha256')
    .update(pyJsonStringify({ packages: packages ?? null, pending_upgrades: pendingUpgrades ?? null }), 'utf8')
    .digest('hex');
}
