// A whole agent world for tests: the real CLI binary (bin/wapt-get → dist/), a signed repository of real packages served by
// a real nginx over TLS, and a wapt-get.ini with dbdir, cache and user_mode_root.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPackage, makeTemplate } from '../../src/package/index.js';
import { scanPackages } from '../../src/repo/scan/scan.js';
import { openDb, type WaptDb } from '../../src/agent/db/index.js';
import { startNginx, type NginxHandle } from './nginx.js';
import { getTestPki, signerOf, type TestPki } from './pki.js';
import { makeTlsPki, type TlsPki } from './tls-pki.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// ---------------------------------------------------------------- the CLI as a child

/** The real binary, running the compiled dist/ that `npm test` builds first. */
export function agentCli(): string {
  const bin = path.join(ROOT, 'bin', 'wapt-get');
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it) before these tests');
  }
  return bin;
}

export interface AgentRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function childEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  delete env.NODE_OPTIONS;
  delete env.FORCE_COLOR;
  return env;
}

export function spawnAgent(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [agentCli(), ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Collects a spawned child's output until it exits. */
export function collect(child: ChildProcess, timeoutMs = 60_000): Promise<AgentRun> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

// ---------------------------------------------------------------- packages and repository

export interface PkgSpec {
  name: string;
  version?: string;
  /** Template to start from (dir, script, group…); default: a bare package. */
  template?: string;
  depends?: string;
  conflicts?: string;
  section?: string;
  /** setup.mjs text (replaces the template's). */
  setup?: string;
  /** Extra payload files: relative path → content. */
  files?: Record<string, string | Buffer>;
  /** Which test identity signs (default the trusted code-signer). */
  signedBy?: 'codesigner' | 'otherSigner';
}

function controlText(s: PkgSpec): string {
  const f: [string, string][] = [
    ['package', s.name],
    ['version', s.version ?? '1.0-1'],
    ['architecture', 'all'],
    ['section', s.section ?? 'base'],
    ['priority', 'optional'],
    ['name', s.name],
    ['maintainer', 'tests'],
    ['description', `test package ${s.name}`],
    ['depends', s.depends ?? ''],
    ['conflicts', s.conflicts ?? ''],
  ];
  return f.map(([k, v]) => `${k.padEnd(18)}: ${v}`).join('\n');
}

/** Builds and signs (code-signing certificate) one package into `outDir`; returns its path. */
export async function buildTestPackage(pki: TestPki, work: string, outDir: string, s: PkgSpec): Promise<string> {
  const dir = await mkdtemp(path.join(work, `src-${s.name}-`));
  await rm(dir, { recursive: true });
  if (s.template) {
    await makeTemplate(s.template, s.name, dir, { version: s.version ?? '1.0-1' });
    if (s.depends !== undefined || s.conflicts !== undefined)
      await writeFile(path.join(dir, 'WAPT', 'control'), controlText({ ...s, section: s.section ?? (s.template === 'group' ? 'group' : 'base') }));
  } else {
    await mkdir(path.join(dir, 'WAPT'), { recursive: true });
    await writeFile(path.join(dir, 'WAPT', 'control'), controlText(s));
  }
  if (s.setup !== undefined) await writeFile(path.join(dir, 'setup.mjs'), s.setup);
  for (const [rel, content] of Object.entries(s.files ?? {})) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  await mkdir(outDir, { recursive: true });
  const r = await buildPackage(dir, { signer: signerOf(pki[s.signedBy ?? 'codesigner']), outDir, date: new Date(), reproducible: false });
  return r.path;
}

// ---------------------------------------------------------------- the world

export interface AgentEnv {
  dir: string;
  pki: TestPki;
  tls: TlsPki;
  repoDir: string;
  nginx: NginxHandle;
  configPath: string;
  dbPath: string;
  cacheDir: string;
  userRoot: string;
  /** Adds packages to the repository and re-indexes it (then run `update`). */
  publish(...specs: PkgSpec[]): Promise<string[]>;
  /** Runs the CLI with -c config (and --json when asked). */
  run(args: string[], opts?: { json?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<AgentRun>;
  spawn(args: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  /** Opens the DB (read it, then close()). */
  db(): Promise<WaptDb>;
  /** Rewrites wapt-get.ini with extra [global] lines. */
  configure(extra?: Record<string, string | number>): Promise<void>;
  stop(): Promise<void>;
}

export async function makeAgentEnv(opts: { rateLimit?: string; ini?: Record<string, string | number> } = {}): Promise<AgentEnv> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wapt-agent-'));
  const pki = await getTestPki();
  const tls = await makeTlsPki(path.join(dir, 'tls'));
  const repoDir = path.join(dir, 'repo');
  const userRoot = path.join(dir, 'root');
  const dbdir = path.join(dir, 'db');
  const cacheDir = path.join(dir, 'cache');
  await Promise.all([repoDir, userRoot, dbdir].map((d) => mkdir(d, { recursive: true })));
  await scanPackages(repoDir);
  const nginx = await startNginx({ root: repoDir, cert: tls.serverCert, key: tls.serverKey, rateLimit: opts.rateLimit });
  const configPath = path.join(dir, 'wapt-get.ini');
  const configure = async (extra: Record<string, string | number> = {}) => {
    const g: Record<string, string | number> = {
      repo_url: nginx.url,
      verify_cert: tls.caCert,
      dbdir,
      cachedir: cacheDir,
      trusted_certs_dir: pki.trustedDir,
      user_mode_root: userRoot,
      install_timeout: 30,
      lock_timeout: 10,
      timeout: 5,
      ...opts.ini,
      ...extra,
    };
    await writeFile(
      configPath,
      '[global]\n' +
        Object.entries(g)
          .map(([k, v]) => `${k} = ${v}`)
          .join('\n') +
        '\n',
    );
  };
  await configure();
  const env: AgentEnv = {
    dir,
    pki,
    tls,
    repoDir,
    nginx,
    configPath,
    dbPath: path.join(dbdir, 'waptdb.sqlite'),
    cacheDir,
    userRoot,
    async publish(...specs) {
      const paths: string[] = [];
      for (const s of specs) paths.push(await buildTestPackage(pki, dir, repoDir, s));
      await scanPackages(repoDir);
      return paths;
    },
    run(args, o = {}) {
      return collect(spawnAgent([...(o.json ? ['--json'] : []), '-c', configPath, ...args], o.env), o.timeoutMs);
    },
    spawn(args, e = {}) {
      return spawnAgent(['-c', configPath, ...args], e);
    },
    db: () => openDb(env.dbPath),
    configure,
    async stop() {
      await nginx.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return env;
}

export function fileExists(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Polls until `p` exists (a hook's marker file); throws after `ms`. */
export async function waitForFile(p: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!existsSync(p)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${p}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
