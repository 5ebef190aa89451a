// Reading the packages a scan has not seen: in this thread, or spread over
// worker threads (worker.ts) for a cold scan of many packages. With workers,
// this thread takes batches too (it would otherwise wait while they start), and
// picks up the batches of a worker that fails. Workers run compiled JS only:
// where worker.js is absent (ts-jest runs src/*.ts) everything is read here.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { readInOrder, type BatchItem, type PackageRead } from './read-batch.js';
import type { CertificateMemo } from './read-package.js';
import { decodeBatch, type BatchRequest, type WorkerMessage } from './wire.js';

/** Below this many packages to read, a worker (startup ~60 ms, its own JIT warm-up) was measured to save nothing. */
export const WORKER_MIN_PACKAGES = 2000;
const BATCH = 64;
/** Batches queued per worker, so that it never waits for this thread between two. */
const IN_FLIGHT = 2;

export interface ReadPackagesOptions {
  /** Worker threads besides this one (0: read everything here). */
  workers: number;
  checkSignatures: boolean;
  memo: CertificateMemo;
  onWarning: (msg: string) => void;
}

export interface ReadPackagesResult {
  /** In the order of the items. */
  reads: PackageRead[];
  /** Certificates the workers met (fingerprint → PEM); this thread's are in memo.pems. */
  pems: Map<string, string>;
}

let scriptMemo: URL | null | undefined;

/** The compiled worker next to this module, or null when running from TypeScript sources. */
export function workerScript(): URL | null {
  if (scriptMemo === undefined) {
    const url = new URL('./worker.js', import.meta.url);
    scriptMemo = url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : null;
  }
  return scriptMemo;
}

/** Workers to start for `count` new packages; `wanted` is ScanOptions.workers (undefined: automatic). */
export function workerCount(wanted: number | undefined, count: number): number {
  if (count === 0 || workerScript() === null) return 0;
  const useful = Math.ceil(count / BATCH) - 1; // this thread reads a batch too
  if (wanted !== undefined) return Math.max(0, Math.min(Math.floor(wanted), useful));
  if (count < WORKER_MIN_PACKAGES) return 0;
  return Math.max(1, Math.min(availableParallelism() - 1, useful));
}

export async function readPackages(dir: string, items: BatchItem[], opts: ReadPackagesOptions): Promise<ReadPackagesResult> {
  const script = workerScript();
  if (opts.workers <= 0 || !script) return { reads: await readHere(dir, items, opts), pems: new Map() };
  const batches: BatchItem[][] = [];
  for (let i = 0; i < items.length; i += BATCH) batches.push(items.slice(i, i + BATCH));
  const done: (PackageRead[] | undefined)[] = new Array(batches.length);
  const queue = batches.map((_, i) => i);
  const pems = new Map<string, string>();
  let remaining = batches.length;
  let wake: (() => void) | null = null;
  const finish = (id: number, reads: PackageRead[]) => {
    if (done[id]) return;
    done[id] = reads;
    remaining--;
  };

  const threads: Worker[] = [];
  let closing = false;
  const startWorker = () => {
    const w = new Worker(script);
    const pending = new Set<number>();
    let alive = true;
    const feed = () => {
      while (alive && pending.size < IN_FLIGHT && queue.length > 0) {
        const id = queue.shift()!;
        pending.add(id);
        w.postMessage({ id, dir, items: batches[id]!, checkSignatures: opts.checkSignatures } satisfies BatchRequest);
      }
    };
    const drop = (why: string) => {
      if (!alive || closing) return;
      alive = false;
      queue.unshift(...pending); // this thread reads them
      pending.clear();
      opts.onWarning(`scan worker stopped (${why}); its packages are read in the main thread`);
    };
    w.on('message', (msg: WorkerMessage) => {
      pending.delete(msg.id);
      if (msg.type === 'batch') {
        for (const [fp, pem] of msg.pems) pems.set(fp, pem);
        finish(msg.id, decodeBatch(msg));
      } else {
        queue.unshift(msg.id);
        drop(msg.error.message);
      }
      feed();
      wake?.();
    });
    w.on('error', (err) => {
      drop(err.message);
      wake?.();
    });
    w.on('exit', (code) => {
      drop(`exit code ${code}`);
      wake?.();
    });
    threads.push(w);
    feed();
  };

  try {
    for (let i = 0; i < opts.workers; i++) startWorker();
    while (remaining > 0) {
      const id = queue.shift();
      if (id === undefined) {
        await new Promise<void>((r) => (wake = r));
        wake = null;
        continue;
      }
      finish(id, await readInOrder(dir, batches[id]!, opts.memo, opts.checkSignatures));
      await nextTurn(); // let worker replies in
    }
  } finally {
    closing = true;
    await Promise.all(threads.map((t) => t.terminate()));
  }
  return { reads: done.flatMap((d) => d!), pems };
}

async function readHere(dir: string, items: BatchItem[], opts: ReadPackagesOptions): Promise<PackageRead[]> {
  return readInOrder(dir, items, opts.memo, opts.checkSignatures);
}
