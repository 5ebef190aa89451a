// A scanner worker thread (pool.ts): reads, hashes and parses the packages of
// each batch it is sent and checks their control signatures, so that a cold
// scan of thousands of packages uses every core. Only compiled JS runs here.
import { parentPort } from 'node:worker_threads';
import { asWaptError } from '../../errors.js';
import { readInOrder } from './read-batch.js';
import { CertificateMemo } from './read-package.js';
import { encodeBatch, failedMessage, type BatchRequest } from './wire.js';

const port = parentPort!;
const memo = new CertificateMemo();
const sent = new Set<string>();

async function runBatch(req: BatchRequest): Promise<void> {
  const reads = await readInOrder(req.dir, req.items, memo, req.checkSignatures);
  const pems: [string, string][] = [];
  for (const [fp, pem] of memo.pems) {
    if (!sent.has(fp)) {
      sent.add(fp);
      pems.push([fp, pem]);
    }
  }
  const { msg, transfer } = encodeBatch(req.id, reads, pems);
  port.postMessage(msg, transfer);
}

// Batches are handled one at a time, in arrival order.
let queue: Promise<void> = Promise.resolve();
port.on('message', (req: BatchRequest) => {
  queue = queue.then(() => runBatch(req)).catch((err: unknown) => port.postMessage(failedMessage(req.id, asWaptError(err))));
});
