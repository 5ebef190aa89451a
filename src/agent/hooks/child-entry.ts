// Where the hook child's compiled entry lives. Built code (dist/agent/hooks/) has
// child.js next to runner.js. When wapt-get runs from its TypeScript sources
// (ts-jest), there is no child.js and a stale dist/ would run old code, so the
// directory's sources are transpiled once into a temp dir keyed by their hash.
// That works because the child imports only node: builtins and files of this directory (and below).
// The build directory is reused only if it is ours and nobody else can write it (issue 8
// §6): its name is predictable, and another user could plant a child.js there.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WaptError } from '../../errors.js';

// Runs in a plain node (not inside jest's module registry, which is slow with typescript).
const TRANSPILE = `
const fs = require('fs'), path = require('path');
const [src, out, root] = process.argv.slice(1);
const ts = require(require.resolve('typescript', { paths: [root] }));
const walk = (from, to) => {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) { walk(path.join(from, e.name), path.join(to, e.name)); continue; }
    const f = e.name;
    if (!f.endsWith('.ts') || f.endsWith('.d.ts')) continue;
    const r = ts.transpileModule(fs.readFileSync(path.join(from, f), 'utf8'), {
      fileName: f,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    fs.writeFileSync(path.join(to, f.slice(0, -3) + '.js'), r.outputText);
  }
};
walk(src, out);
fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}');
`;

let cached: string | undefined;

export function childEntry(): string {
  if (cached) return cached;
  const here = fileURLToPath(import.meta.url);
  const dir = path.dirname(here);
  cached = here.endsWith('.ts') ? transpileChild(dir) : path.join(dir, 'child.js');
  return cached;
}

/** Where the sources of `srcDir` are transpiled: a name anyone can compute, hence isOurs(). */
export function transpiledChildDir(srcDir: string, tmpRoot = os.tmpdir()): string {
  const hash = createHash('sha256');
  // Subdirectories too (windows/): the child's helpers import them.
  const files = (readdirSync(srcDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).sort();
  for (const f of files)
    hash
      .update(f)
      .update('\0')
      .update(readFileSync(path.join(srcDir, f)))
      .update('\0');
  return path.join(tmpRoot, `wapt-get-hook-child-${process.getuid?.() ?? 'u'}-${hash.digest('hex').slice(0, 16)}`);
}

/** The transpiled child of `srcDir`, built under `tmpRoot` (or reused there when isOurs). */
export function transpileChild(srcDir: string, tmpRoot = os.tmpdir()): string {
  const out = transpiledChildDir(srcDir, tmpRoot);
  const entry = path.join(out, 'child.js');
  if (existsSync(entry) && isOurs(out)) return entry;
  // Build aside (a fresh 0700 dir) then rename: parallel jest workers may race; the loser's rename fails harmlessly.
  const tmp = mkdtempSync(`${out}.tmp-`);
  const root = path.resolve(srcDir, '../../..');
  const r = spawnSync(process.execPath, ['-e', TRANSPILE, srcDir, tmp, root], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new WaptError('INTERNAL', `cannot prepare the hook child from sources: ${r.stderr || r.error?.message}`);
  }
  try {
    renameSync(tmp, out);
  } catch {
    // another worker won, or a directory we do not trust is in the way: then run our own build
    if (!isOurs(out)) return path.join(tmp, 'child.js');
    rmSync(tmp, { recursive: true, force: true });
  }
  return entry;
}

/** A real directory (no link) owned by us that neither group nor others may write. */
function isOurs(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}
