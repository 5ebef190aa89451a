// Writing one key of the wapt-get.ini this run reads (generate-uuid, reset-uuid,
// enable-check-certificate): the rest of the file is kept as written, the file is
// replaced atomically with its own mode.
import { readFile } from 'node:fs/promises';
import { atomicWriteFile } from '../atomic-file.js';
import type { CommandContext } from './command.js';
import { configOf } from './context.js';

export async function setConfigValue(
  ctx: CommandContext,
  section: string,
  key: string,
  value: string | null,
): Promise<{ path: string; before: string | null }> {
  const { setIniValue } = await import('../agent/index.js');
  const cfg = await configOf(ctx);
  const text = await readFile(cfg.configPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const before = readIniValue(text, section, key);
  await atomicWriteFile(cfg.configPath, setIniValue(text, section, key, value), { defaultMode: 0o644 });
  return { path: cfg.configPath, before };
}

/** The raw value of `key` in `[section]` as the file has it now (first match, no continuation). */
export function readIniValue(text: string, section: string, key: string): string | null {
  let current: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    const s = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (s) {
      current = s[1]!.trim();
      continue;
    }
    if (current !== section || /^\s/.test(line)) continue;
    const m = /^([^=:;#][^=:]*?)\s*[=:]\s*(.*)$/.exec(line);
    if (m && m[1]!.trim().toLowerCase() === key.toLowerCase()) return m[2]!.trim();
  }
  return null;
}
