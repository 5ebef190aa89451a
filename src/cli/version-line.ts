// `wapt-get --version`: our version, the commit it was built from and the Node running it,
// so a bug report says exactly what ran.
import { readFileSync } from 'node:fs';
import { VERSION_STRING } from '../version.js';

const ROOT = new URL('../../', import.meta.url);

function readText(rel: string): string | null {
  try {
    return readFileSync(new URL(rel, ROOT), 'utf8').trim();
  } catch {
    return null;
  }
}

/** A checkout's .git HEAD (always current), else dist/commit.txt (stamped by `npm run build` for packages), else unknown. */
export function buildCommit(): string {
  const head = readText('.git/HEAD');
  const stamped = readText('dist/commit.txt');
  if (!head) return stamped && /^[0-9a-f]{7,40}$/.test(stamped) ? stamped.slice(0, 12) : 'unknown';
  if (/^[0-9a-f]{40}$/.test(head)) return head.slice(0, 12);
  const ref = /^ref: (.+)$/.exec(head)?.[1];
  if (!ref) return 'unknown';
  const loose = readText(`.git/${ref}`);
  if (loose && /^[0-9a-f]{40}$/.test(loose)) return loose.slice(0, 12);
  const packed = readText('.git/packed-refs')
    ?.split('\n')
    .find((l) => l.endsWith(` ${ref}`));
  return packed ? packed.slice(0, 12) : 'unknown';
}

export function versionLine(): string {
  return `wapt-get ${VERSION_STRING} (commit ${buildCommit()}, node ${process.version})`;
}
