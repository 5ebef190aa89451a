// Loads sql.js (SQLite compiled to WebAssembly) once per process. The wasm file is
// found through Node's module resolution, so it works from src/, dist/ and jest alike.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { SqlJsStatic } from 'sql.js';

const require = createRequire(import.meta.url);
let cached: Promise<SqlJsStatic> | undefined;

export function loadSqlJs(): Promise<SqlJsStatic> {
  cached ??= (async () => {
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
