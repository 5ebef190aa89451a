// Packages for tests: build a signed .wapt from a spec object, and derive
// *validly zipped but tampered* copies of it. The rewriting uses yauzl/yazl
// directly (not our zip code), so a tampered package is exactly what an
// attacker with an ordinary zip tool would make.
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { certificateToPem, mimeBase64, signSha256 } from '../../src/crypto/index.js';
import {
  buildPackage,
  controlFromObject,
  manifestJson,
  MANIFEST_EXCLUDED,
  parseControl,
  serializeControl,
  signControl,
  type BuildResult,
  type ControlFields,
  type Signer,
} from '../../src/package/index.js';

export interface PackageSpec {
  /** Control fields; serialised the WAPT way (`%-18s: %s`). Ignored when controlText is set. */
  control: Record<string, string>;
  /** Raw WAPT/control text, for malformed controls. */
  controlText?: string;
  /** Payload: relative path → content. */
  files?: Record<string, string | Buffer>;
}

export function tempDir(prefix = 'wapt-pkg-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a source directory (WAPT/control + payload) under `dir`. */
export function writeSourceDir(dir: string, spec: PackageSpec): string {
  mkdirSync(join(dir, 'WAPT'), { recursive: true });
  writeFileSync(join(dir, 'WAPT', 'control'), spec.controlText ?? serializeControl(controlFromObject(spec.control)));
  for (const [rel, content] of Object.entries(spec.files ?? {})) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

export interface BuildSpecOptions {
  outDir?: string;
  date?: Date;
  reproducible?: boolean;
}

/** Source dir + buildPackage in fresh temp dirs. */
export async function buildFromSpec(spec: PackageSpec, signer: Signer, opts: BuildSpecOptions = {}): Promise<BuildResult & { sourceDir: string }> {
  const sourceDir = writeSourceDir(tempDir('wapt-src-'), spec);
  const outDir = opts.outDir ?? tempDir('wapt-out-');
  try {
    const r = await buildPackage(sourceDir, { signer, outDir, date: opts.date ?? new Date(), reproducible: opts.reproducible ?? false });
    return { ...r, sourceDir };
  } catch (err) {
    // The caller never learns these paths when the build fails: remove them here.
    rmSync(sourceDir, { recursive: true, force: true });
    if (!opts.outDir) rmSync(outDir, { recursive: true, force: true });
    throw err;
  }
}

// --- reading and rewriting zips with yauzl / yazl -------------------------------

export interface ZipEntryData {
  name: string;
  data: Buffer;
  /** Was it deflated in the source zip. */
  deflated: boolean;
  utf8Flag: boolean;
}

/** Every member in central-directory order, data in memory (test packages are small). */
export async function readZipEntries(path: string): Promise<ZipEntryData[]> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true });
  const out: ZipEntryData[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      const chunks: Buffer[] = [];
      for await (const c of await zip.openReadStreamPromise(entry)) chunks.push(c as Buffer);
      out.push({
        name: entry.fileName,
        data: Buffer.concat(chunks),
        deflated: entry.compressionMethod === 8,
        utf8Flag: (entry.generalPurposeBitFlag & 0x800) !== 0,
      });
    }
  } finally {
    zip.close();
  }
  return out;
}

export async function readMember(path: string, name: string): Promise<Buffer> {
  const e = (await readZipEntries(path)).find((x) => x.name === name);
  if (!e) throw new Error(`${path} has no member ${name}`);
  return e.data;
}

export async function writeZipEntries(path: string, entries: { name: string; data: Buffer; deflated?: boolean }[]): Promise<void> {
  const zip = new yazl.ZipFile();
  const done = pipeline(zip.outputStream, createWriteStream(path));
  for (const e of entries) zip.addBuffer(e.data, e.name, { compress: e.deflated ?? true, mtime: new Date('2024-01-01T00:00:00Z') });
  zip.end();
  await done;
}

export interface ZipEdits {
  /** New content, or a function of the old content. */
  replace?: Record<string, Buffer | string | ((old: Buffer) => Buffer | string)>;
  /** Appended after the existing members. */
  add?: Record<string, Buffer | string>;
  remove?: string[];
}

function applyEdits(entries: ZipEntryData[], edits: ZipEdits): { name: string; data: Buffer; deflated: boolean }[] {
  const buf = (v: Buffer | string) => (Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8'));
  const out = entries
    .filter((e) => !(edits.remove ?? []).includes(e.name))
    .map((e) => {
      const r = edits.replace?.[e.name];
      const data = r === undefined ? e.data : typeof r === 'function' ? buf(r(e.data)) : buf(r);
      return { name: e.name, data, deflated: e.deflated };
    });
  for (const name of Object.keys(edits.replace ?? {})) {
    if (!entries.some((e) => e.name === name)) throw new Error(`replace: no member ${name}`);
  }
  for (const [name, data] of Object.entries(edits.add ?? {})) out.push({ name, data: buf(data), deflated: true });
  return out;
}

/** Copies `src` to `dest` with members replaced, added or removed; nothing else changes. */
export async function rewriteZip(src: string, dest: string, edits: ZipEdits): Promise<string> {
  await writeZipEntries(dest, applyEdits(await readZipEntries(src), edits));
  return dest;
}

export interface ForgeOptions {
  /** Sign the recomputed manifest with this key and put these certificates in WAPT/certificate.crt. Absent: keep the old signature (an attacker without a key). */
  signer?: Signer;
  /** Also re-sign WAPT/control with `signer` (new signer, fingerprint, uuid). */
  resignControl?: boolean;
}

/**
 * Applies `edits`, then recomputes WAPT/manifest.sha256 over every member (W-D1)
 * so that the manifest matches the content again, and signs it if a signer is given.
 */
export async function forgePackage(src: string, dest: string, edits: ZipEdits, opts: ForgeOptions = {}): Promise<string> {
  const entries = applyEdits(await readZipEntries(src), edits);
  const set = (name: string, data: Buffer) => {
    const e = entries.find((x) => x.name === name);
    if (e) e.data = data;
    else entries.push({ name, data, deflated: true });
  };
  const get = (name: string) => entries.find((x) => x.name === name)!.data;
  if (opts.signer) {
    const [cert] = opts.signer.certificates;
    if (opts.resignControl) {
      const signed = signControl(parseControl(get('WAPT/control').toString('utf8')), {
        key: opts.signer.key,
        cert: cert!,
        date: new Date(),
        reproducible: false,
      });
      set('WAPT/control', Buffer.from(serializeControl(signed), 'utf8'));
    }
    set('WAPT/certificate.crt', Buffer.from(opts.signer.certificates.map((c) => certificateToPem(c).trim()).join('\n') + '\n'));
  }
  const pairs = entries.filter((e) => !MANIFEST_EXCLUDED.has(e.name) && !e.name.endsWith('/')).map((e) => [e.name, sha256(e.data)] as const);
  const manifest = Buffer.from(manifestJson(pairs), 'utf8');
  set('WAPT/manifest.sha256', manifest);
  if (opts.signer) set('WAPT/signature.sha256', Buffer.from(mimeBase64(signSha256(opts.signer.key, manifest)), 'ascii'));
  await writeZipEntries(dest, entries);
  return dest;
}

/** A control edit for ZipEdits.replace: one field changed, everything else (signature included) kept. */
export function editControlField(key: string, value: string): (old: Buffer) => Buffer {
  return (old) => {
    const fields: ControlFields = parseControl(old.toString('utf8'));
    fields.set(key, value);
    return Buffer.from(serializeControl(fields), 'utf8');
  };
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}
