// Read once from package.json so `--version` and `serve` agree with the release.
import { readFileSync } from 'node:fs';

function readVersion(): string {
  const pkgUrl = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(pkgUrl, 'utf8')) as { version: string }).version;
}

export const VERSION: string = readVersion();
