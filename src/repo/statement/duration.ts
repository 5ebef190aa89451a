// Durations as people type them on the command line (`--expires 7d`).
import { WaptError } from '../../errors.js';

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60 * 1000,
  h: 60 * 60 * 1000,
  d: 24 * 60 * 60 * 1000,
  w: 7 * 24 * 60 * 60 * 1000,
};

/** '7d' | '12h' | '30m' | '3600s' | '2w' → milliseconds. A unit is required: "7" is ambiguous. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/i.exec(text);
  if (!m) {
    throw new WaptError('USAGE', `invalid duration "${text}": use a whole number and a unit, e.g. 7d, 12h, 30m, 3600s`, {
      detail: { value: text },
    });
  }
  const ms = Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!;
  if (ms <= 0 || !Number.isSafeInteger(ms)) {
    throw new WaptError('USAGE', `invalid duration "${text}": must be greater than zero and reasonable`, { detail: { value: text } });
  }
  return ms;
}
