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
  const { setIniValue, parseIni } = await import('../agent/index.js');
  const cfg = await configOf(ctx);
  const text = await readFile(cfg.configPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  // the value as the file has it now, read by the same reader as the config
  const before = parseIni(text, cfg.configPath).sections.get(section)?.get(key.toLowerCase())?.value ?? null;
  await atomicWriteFile(cfg.configPath, setIniValue(text, section, key, value), { defaultMode: 0o644 });
  return { path: cfg.configPath, before };
}
