// Loads sql.js (SQLite compiled to WebAssembly) once per process. The wasm file is
// found through Node's module resolution, so it works from src/, dist/ and jest alike.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import type { SqlJsStatic } from 'sql.js';

const require = createRequire(import.meta.url);
let cached: Promise<SqlJsStatic> | undefined;

export function loadSqlJs(): Promise<SqlJsStatic> {
  cached ??= (async () => {
    // V8 first compiles wasm with its baseline compiler (Liftoff), then recompiles hot
    // functions with TurboFan on background threads, and a process waits for those jobs
    // before it exits. For sql.js that recompilation cost ~0.25 s of CPU per command,
    // more than it ever saved: a 304 `update` took 0.50 s instead of 0.33 s, and a
    // 10,000-entry cold update was no faster with it. Must be set before compiling.
    v8.setFlagsFromString('--liftoff-only');
    const init = require('sql.js') as (cfg?: { wasmBinary?: ArrayBuffer }) => Promise<SqlJsStatic>;
    const wasm = await readFile(require.resolve('sql.js/dist/sql-wasm.wasm'));
    const wasmBinary = wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer;
    return init({ wasmBinary });
  })();
  // A failed load (missing wasm) must not poison every later attempt.
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}
