// CommonJS libraries loaded on first use, not at start-up (issue 12 §2): most verbs never
// need undici, tar-stream, yazl or cfb, and loading each costs 5-95 ms of every run.
import { createRequire } from 'node:module';

const requireCjs = createRequire(import.meta.url);

/** A getter that requires `specifier` the first time it is called, then returns the same module. */
export function lazyRequire<T>(specifier: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= requireCjs(specifier) as T);
}
