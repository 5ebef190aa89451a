// Messages between the scanner and its worker threads (pool.ts, worker.ts).
// Errors cross as {code, message, detail} and become WaptErrors again; index
// blocks cross as one transferred buffer per batch (no copy of 20 MB of text).
import { WaptError, type ErrorCode } from '../../errors.js';
import type { CachedPackage } from './cache.js';
import type { BatchItem, PackageRead } from './read-batch.js';

export interface BatchRequest {
  id: number;
  dir: string;
  items: BatchItem[];
  /** Check each control signature (not the chain: see signature.ts). */
  checkSignatures: boolean;
}

interface WireError {
  code: string;
  message: string;
  detail: Record<string, unknown>;
}

type WireEntry = Omit<CachedPackage, 'block' | 'stored'> & { blockOff: number; blockLen: number };

type WireRead = { name: string; error: WireError } | { name: string; entry: WireEntry; signedBy: string | null; signatureError: WireError | null };

export type WorkerMessage =
  { type: 'batch'; id: number; reads: WireRead[]; blocks: ArrayBuffer; pems: [string, string][] } | { type: 'failed'; id: number; error: WireError };

function toWire(e: WaptError): WireError {
  let detail: Record<string, unknown> = {};
  try {
    detail = JSON.parse(JSON.stringify(e.detail ?? {})) as Record<string, unknown>;
  } catch {
    // A detail that does not serialise (bigint, cycle) is dropped; code and message say enough.
  }
  return { code: e.code, message: e.message, detail };
}

function fromWire(w: WireError): WaptError {
  return new WaptError(w.code as ErrorCode, w.message, { detail: w.detail });
}

export function failedMessage(id: number, err: WaptError): WorkerMessage {
  return { type: 'failed', id, error: toWire(err) };
}

/** A batch's reads as one message; `transfer` holds the buffer to hand over. */
export function encodeBatch(id: number, reads: PackageRead[], pems: [string, string][]): { msg: WorkerMessage; transfer: ArrayBuffer[] } {
  let total = 0;
  for (const r of reads) if ('entry' in r) total += r.entry.block.length;
  // A buffer of its own (not a slice of Node's shared pool), so it can be transferred.
  const blocks = new Uint8Array(new ArrayBuffer(total));
  let at = 0;
  const wire = reads.map((r): WireRead => {
    if ('error' in r) return { name: r.name, error: toWire(r.error) };
    const { block, stored: _stored, ...rest } = r.entry;
    blocks.set(block, at);
    const entry = { ...rest, blockOff: at, blockLen: block.length };
    at += block.length;
    return { name: r.name, entry, signedBy: r.signedBy, signatureError: r.signatureError && toWire(r.signatureError) };
  });
  return { msg: { type: 'batch', id, reads: wire, blocks: blocks.buffer, pems }, transfer: [blocks.buffer] };
}

export function decodeBatch(msg: Extract<WorkerMessage, { type: 'batch' }>): PackageRead[] {
  const blocks = Buffer.from(msg.blocks);
  return msg.reads.map((r): PackageRead => {
    if ('error' in r) return { name: r.name, error: fromWire(r.error) };
    const { blockOff, blockLen, ...rest } = r.entry;
    const entry: CachedPackage = { ...rest, block: blocks.subarray(blockOff, blockOff + blockLen) };
    return { name: r.name, entry, signedBy: r.signedBy, signatureError: r.signatureError && fromWire(r.signatureError) };
  });
}
