// Shared set-up for the update / read-verb / bundle tests: real signed packages, a real
// scanned (and X2-signed) index, a real nginx over real HTTPS, and wapt-get.ini files.
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPackage } from '../../src/package/index.js';
import { PackageZip } from '../../src/package/zip-reader.js';
import { writeZip } from '../../src/package/zip-writer.js';
import { scanPackages } from '../../src/repo/scan/scan.js';
import { openDb } from '../../src/agent/db/index.js';
import { getTestPki, signerOf, type Identity, type TestPki } from '../helpers/pki.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { makeTlsPki, type TlsPki } from '../helpers/tls-pki.js';
import { runCli, type CliResult } from '../helpers/cli.js';

export interface PkgSpec {
  name: string;
  version: string;
  fields?: Record<string, string>;
  signer?: Identity;
  /** Payload files (relative path → content). */
  files?: Record<string, string>;
}

export const DAY = 86_400_000;

/** Builds one signed package from a spec into `outDir`; returns its path. */
export async function buildSpec(pki: TestPki, work: string, outDir: string, spec: PkgSpec): Promise<string> {
  const src = join(work, 'src', `${spec.name}-${spec.version}-${Math.random().toString(36).slice(2)}`);
  await mkdir(join(src, 'WAPT'), { recursive: true });
  const fields = {
    package: spec.name,
    version: spec.version,
    architecture: 'all',
    section: 'base',
    priority: 'optional',
    maturity: 'PROD',
    description: `${spec.name} test package`,
    ...spec.fields,
  };
  await writeFile(
    join(src, 'WAPT', 'control'),
    Object.entries(fields)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n') + '\n',
  );
  for (const [rel, text] of Object.entries(spec.files ?? { 'data/readme.txt': `payload of ${spec.name} ${spec.version}\n`.repeat(200) })) {
    await mkdir(join(src, rel, '..'), { recursive: true });
    await writeFile(join(src, rel), text);
  }
  await mkdir(outDir, { recursive: true });
  const res = await buildPackage(src, { signer: signerOf(spec.signer ?? pki.deployer), outDir, date: new Date(), reproducible: false });
  return res.path;
}

/** X2-signed scan of `dir` with the code-signer key (trusted CA), `expiresInMs` from `now`. */
export async function signedScan(pki: TestPki, dir: string, opts: { expiresInMs?: number; now?: Date } = {}) {
  return scanPackages(dir, {
    sign: { key: pki.codesigner.privateKey, cert: pki.codesigner.cert, expiresInMs: opts.expiresInMs ?? 7 * DAY },
    now: opts.now,
  });
}

export async function copyDir(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const f of await readdir(from, { withFileTypes: true })) if (f.isFile()) await copyFile(join(from, f.name), join(to, f.name));
}

/** Every member of the zip `src` through `edit` (null drops it), written to `dest`. */
export async function rewriteZip(src: string, dest: string, edit: (name: string, data: Buffer) => Buffer | null): Promise<void> {
  const zip = await PackageZip.open(src);
  const inputs: { name: string; source: { buffer: Buffer } }[] = [];
  try {
    for (const m of zip.members) {
      if (m.isDirectory) continue;
      const out = edit(m.name, await zip.readMember(m.name, 1 << 26));
      if (out) inputs.push({ name: m.name, source: { buffer: out } });
    }
  } finally {
    zip.close();
  }
  await writeZip(dest, inputs, { mtime: new Date() });
}

/** The Packages zip `src` with its `Packages` text edited (and members matching `drop` left out). */
export async function rezipPackages(src: string, dest: string, edit: (text: string) => string, drop: (name: string) => boolean = () => false): Promise<void> {
  await rewriteZip(src, dest, (name, data) => (drop(name) ? null : name === 'Packages' ? Buffer.from(edit(data.toString('utf8')), 'utf8') : data));
}

export interface Site {
  dir: string;
  www: string;
  pki: TestPki;
  tls: TlsPki;
  nginx: NginxHandle;
  /** Writes <dir>/clients/<name>/wapt-get.ini ([global] keys; `over` adds or replaces); returns its path. */
  config(name: string, repoPath: string | null, over?: Record<string, string>): Promise<string>;
  cli(config: string, args: string[]): Promise<CliResult>;
  json(config: string, args: string[]): Promise<{ code: number | null; data: any; stderr: string }>;
}

/** `location` blocks: /flaky/Packages answers 500 while the file `FAIL` exists beside it. */
const FLAKY = `location = /flaky/Packages { if (-f $document_root/flaky/FAIL) { return 500; } }`;

export async function startSite(dir: string): Promise<Site> {
  const www = join(dir, 'www');
  await mkdir(www, { recursive: true });
  const [pki, tls] = await Promise.all([getTestPki(), makeTlsPki(join(dir, 'tls'))]);
  const nginx = await startNginx({ root: www, cert: tls.serverCert, key: tls.serverKey, extraLocations: FLAKY });
  const site: Site = {
    dir,
    www,
    pki,
    tls,
    nginx,
    async config(name, repoPath, over = {}) {
      const home = join(dir, 'clients', name);
      await mkdir(home, { recursive: true });
      const keys: Record<string, string> = {
        dbdir: join(home, 'db'),
        trusted_certs_dir: pki.trustedDir,
        verify_cert: tls.caCert,
        maturities: 'PROD,',
        architecture: 'x64',
        timeout: '5',
        lock_timeout: '5',
        ...(repoPath === null ? {} : { repo_url: `${nginx.url}/${repoPath}` }),
        ...over,
      };
      const path = join(home, 'wapt-get.ini');
      await writeFile(path, ['[global]', ...Object.entries(keys).map(([k, v]) => `${k} = ${v}`)].join('\n') + '\n');
      return path;
    },
    cli(config, args) {
      return runCli(['--config', config, ...args], { env: { HOME: dir, WAPT_GET_CONFIG: undefined }, timeoutMs: 30_000 });
    },
    async json(config, args) {
      const r = await runCli(['--config', config, '--json', ...args], { env: { HOME: dir, WAPT_GET_CONFIG: undefined }, timeoutMs: 30_000 });
      let data: any;
      try {
        data = JSON.parse(r.stdout);
      } catch {
        throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
      }
      return { code: r.code, data, stderr: r.stderr };
    },
  };
  return site;
}

/** The DB of a client, read directly (to prove what an update left behind). */
export async function readRepoRow(dbdir: string, repo: string) {
  const db = await openDb(join(dbdir, 'waptdb.sqlite'));
  try {
    return { row: db.repos.get(repo), count: db.available.count(repo), all: db.available.all() };
  } finally {
    db.close();
  }
}

export const dbdirOf = (site: Site, client: string) => join(site.dir, 'clients', client, 'db');

export { readFile };
