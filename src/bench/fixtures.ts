// What the benchmarks run on: a PKI (kept in the work dir so cached package sets
// stay verifiable), big payloads (random = incompressible, text = deflates), and
// the big packages built from them with our own buildPackage.
import { randomBytes, randomFillSync } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  certificateToPem,
  createCaCertificate,
  generateRsaKeyPair,
  issueCertificate,
  loadPrivateKey,
  parseCertificates,
  privateKeyToEncryptedPem,
  TrustStore,
} from '../crypto/index.js';
import { buildPackage, serializeControl, controlFromObject, type Signer } from '../package/index.js';
import { MiB } from './util.js';

export interface Pki {
  dir: string;
  /** Holds ca.crt only: the clients' trusted directory. */
  trustedDir: string;
  keyPath: string;
  certPath: string;
  signer: Signer;
  trust: TrustStore;
}

/** A CA and a code-signing leaf (setup.mjs packages need one, W-D5), made once per work dir. */
export async function ensurePki(work: string): Promise<Pki> {
  const dir = join(work, 'pki');
  const trustedDir = join(dir, 'trusted');
  const keyPath = join(dir, 'signer.pem');
  const certPath = join(dir, 'signer.crt');
  if (!existsSync(certPath)) {
    await mkdir(trustedDir, { recursive: true });
    const caKey = await generateRsaKeyPair();
    const caCert = await createCaCertificate({ commonName: 'bench CA', key: caKey });
    const leafKey = await generateRsaKeyPair();
    const leaf = await issueCertificate({
      commonName: 'bench-codesigner',
      publicKey: leafKey.publicKey,
      codeSigning: true,
      issuer: { cert: caCert, privateKey: caKey.privateKey },
    });
    await writeFile(join(trustedDir, 'ca.crt'), certificateToPem(caCert));
    await writeFile(keyPath, privateKeyToEncryptedPem(leafKey.privateKey, ''), { mode: 0o600 });
    await writeFile(certPath, certificateToPem(leaf));
  }
  const signer: Signer = { key: await loadPrivateKey(keyPath, undefined), certificates: parseCertificates(await readFile(certPath)) };
  return { dir, trustedDir, keyPath, certPath, signer, trust: await TrustStore.load(trustedDir) };
}

async function writeChunks(path: string, size: number, chunk: (i: number, buf: Buffer) => void, chunkSize = 4 * MiB): Promise<void> {
  const out = createWriteStream(path);
  const done = new Promise<void>((res, rej) => {
    out.on('finish', res);
    out.on('error', rej);
  });
  for (let off = 0, i = 0; off < size; off += chunkSize, i++) {
    const buf = Buffer.allocUnsafe(Math.min(chunkSize, size - off));
    chunk(i, buf);
    if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await done;
}

/** Random bytes: deflate cannot shrink them. */
export function writeRandomFile(path: string, size: number): Promise<void> {
  return writeChunks(path, size, (_i, buf) => randomFillSync(buf));
}

/**
 * Log-like text: a 1 MiB block of lines with random tokens, each copy given a fresh
 * random header line, so deflate finds the usual ~4-6× of text and nothing more.
 */
export function writeTextFile(path: string, size: number): Promise<void> {
  const words = ['install', 'package', 'version', 'error', 'warning', 'info', 'debug', 'update', 'repository', 'signature', 'manifest', 'control'];
  const lines: string[] = [];
  let len = 0;
  for (let n = 0; len < MiB; n++) {
    const w = Array.from({ length: 8 }, (_, k) => words[(n * 7 + k * 3 + randomBytes(1)[0]!) % words.length]);
    const l = `2024-05-${String((n % 28) + 1).padStart(2, '0')} ${randomBytes(6).toString('hex')} line ${n}: ${w.join(' ')} value=${randomBytes(2).readUInt16LE()}\n`;
    lines.push(l);
    len += l.length;
  }
  const block = Buffer.from(lines.join('').slice(0, MiB), 'latin1');
  return writeChunks(
    path,
    size,
    (i, buf) => {
      block.copy(buf, 0, 0, buf.length);
      buf.write(`block ${i} ${randomBytes(16).toString('hex')}\n`, 0, 'latin1');
    },
    MiB,
  );
}

export type PayloadKind = 'stored' | 'deflated';

/** The payload member's name decides compression (zip-builder shouldCompress): `.iso` is stored, `.log` deflated. */
export const PAYLOAD_NAME: Record<PayloadKind, string> = { stored: 'payload.iso', deflated: 'payload.log' };

/** A source dir `<work>/src-<kind>-<size>/` holding WAPT/control and the payload. */
export async function ensureSourceDir(work: string, kind: PayloadKind, size: number): Promise<{ dir: string; payload: string }> {
  const dir = join(work, `src-${kind}-${size / MiB}m`);
  const payload = join(dir, PAYLOAD_NAME[kind]);
  const marker = `${dir}.complete`; // outside the dir: it would become a payload member
  if (!existsSync(marker)) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, 'WAPT'), { recursive: true });
    const control = controlFromObject({ package: `bench-big-${kind}`, version: '1.0.0-1', architecture: 'all', description: `benchmark payload, ${kind}` });
    await writeFile(join(dir, 'WAPT', 'control'), serializeControl(control));
    await (kind === 'stored' ? writeRandomFile(payload, size) : writeTextFile(payload, size));
    await writeFile(marker, '');
  }
  return { dir, payload };
}

/** Builds (once per run) the big package of a kind and size into `<work>/pkg-<kind>-<size>/`. */
export class BigPackages {
  private readonly built = new Map<string, Promise<string>>();
  constructor(
    private readonly work: string,
    private readonly pki: Pki,
  ) {}

  /** Someone (the build benchmark) already made this package with the CLI: reuse it. */
  register(kind: PayloadKind, size: number, path: string): void {
    this.built.set(`${kind}-${size}`, Promise.resolve(path));
  }

  get(kind: PayloadKind, size: number): Promise<string> {
    const key = `${kind}-${size}`;
    let p = this.built.get(key);
    if (!p) {
      p = (async () => {
        const { dir } = await ensureSourceDir(this.work, kind, size);
        const outDir = join(this.work, `pkg-${kind}-${size / MiB}m`);
        await mkdir(outDir, { recursive: true });
        const r = await buildPackage(dir, { signer: this.pki.signer, outDir, date: new Date(), reproducible: false });
        return r.path;
      })();
      this.built.set(key, p);
    }
    return p;
  }
}
