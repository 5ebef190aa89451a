// The agent's own version, for User-Agent and min_wapt_version checks (W-C4).
import { readFileSync } from 'node:fs';

export const VERSION_STRING: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * min_wapt_version in WAPT packages names WAPT agent versions (1.5, 1.8, 2.x).
 * wapt-get implements the 2.x package format, so it answers as a 2.x agent.
 */
export const WAPT_COMPAT_VERSION = '2.3';
