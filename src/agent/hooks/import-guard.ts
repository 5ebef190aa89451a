// Module resolution for the hook child (issue 8 §6). A bare `import 'x'` in setup.mjs is
// looked up in node_modules of every parent directory, /tmp/node_modules included, which
// any local user can create: a hook run as root would load their code. So, once the hook
// is about to load, only these resolve: node: built-ins, data: URLs, files of the hook's
// own directory (its package, or the private dir of a stored hook) and of this directory
// (the child's own code). Everything else fails to import with a clear message, for ESM
// (a module.register() resolve hook, registered by child.ts) and for require() alike.
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface GuardData {
  /** Directories whose files may be imported (absolute, real paths). */
  roots: string[];
}

let roots: string[] = [];

function inside(file: string): boolean {
  return roots.some((r) => file === r || file.startsWith(r.endsWith(path.sep) ? r : r + path.sep));
}

function refusal(specifier: string, target: string): Error {
  const e = new Error(
    `setup code may import only node: built-ins and files of its own package; ${JSON.stringify(specifier)} resolves to ${target}, outside it (a directory another user may write)`,
  );
  (e as NodeJS.ErrnoException).code = 'ERR_HOOK_IMPORT_REFUSED';
  return e;
}

/** Whether `url` (a resolved ESM URL) may be loaded. */
export function allowedUrl(url: string): boolean {
  if (url.startsWith('node:') || url.startsWith('data:')) return true;
  return url.startsWith('file:') && inside(fileURLToPath(url));
}

// ---- module.register() hook side (runs on the loader thread)

export function initialize(data: GuardData): void {
  roots = data.roots;
}

interface ResolveResult {
  url: string;
  format?: string | null;
}
type NextResolve = (specifier: string, context?: unknown) => Promise<ResolveResult>;

export async function resolve(specifier: string, context: unknown, nextResolve: NextResolve): Promise<ResolveResult> {
  const r = await nextResolve(specifier, context);
  if (!allowedUrl(r.url)) throw refusal(specifier, r.url);
  return r;
}

// ---- require() side (runs in the child's main thread)

type ResolveFilename = (request: string, ...rest: unknown[]) => string;

/** require() through createRequire in setup code: the same rule on the resolved file name. */
export function guardRequire(data: GuardData): void {
  roots = data.roots;
  const Module = createRequire(import.meta.url)('node:module') as { _resolveFilename: ResolveFilename };
  const original = Module._resolveFilename;
  Module._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    const file = original.call(this, request, ...rest);
    if (!isBuiltin(file) && !inside(file)) throw refusal(request, file);
    return file;
  };
}
