// The version the next X2 statement must exceed: the one in the current
// `Packages` (authoritative: it is what clients saw), else the cache's memory.
import { isWaptError } from '../../errors.js';
import { readPackagesStatement } from '../index-file/packages-zip.js';
import { parseStatement } from '../statement/statement.js';

export async function previousStatementVersion(indexPath: string, cachedVersion: number | null, warn: (m: string) => void): Promise<number | null> {
  let fromIndex: number | null = null;
  try {
    const stmt = await readPackagesStatement(indexPath);
    if (stmt) fromIndex = parseStatement(stmt.bytes).version;
  } catch (err) {
    // No index yet is normal; an unreadable one is replaced, and the clock floor keeps versions moving.
    if (!(isWaptError(err, 'IO_ERROR') && (err.detail as { errno?: string }).errno === 'ENOENT')) {
      warn(`${indexPath}: previous index statement unreadable (${(err as Error).message}); the new version is based on the cache and the clock`);
    }
  }
  if (fromIndex === null) return cachedVersion;
  return cachedVersion === null ? fromIndex : Math.max(fromIndex, cachedVersion);
}
