// A mirror world for tests: the origin (test/helpers/agent-env.ts: real nginx over TLS,
// signed index made with the code-signer), a mirror directory served by a SECOND real
// nginx, the `mirror` verb's own ini, and the client whose repo_url may point at either.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { scanPackages } from '../../src/repo/scan/scan.js';
import { readPackagesZip } from '../../src/repo/index.js';
import { buildTestPackage, collect, makeAgentEnv, spawnAgent, type AgentEnv, type AgentRun, type PkgSpec } from '../helpers/agent-env.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { cleanupPki } from '../helpers/pki.js';
import type { ChildProcess } from 'node:child_process';

export const DAY = 86_400_000;
export const REPOSITORY = 'origin-repo';

export interface MirrorWorld {
  env: AgentEnv;
  /** The directory `mirror` writes, served by `served`. */
  mirrorDir: string;
  served: NginxHandle;
  mirrorIni: string;
  /** Builds packages into the origin (a payload of `kib` random KiB each) and re-signs its index. */
  publish(specs: PkgSpec[], kib?: number): Promise<string[]>;
  /** Re-scans and signs the origin's index (version + 1). */
  sign(expiresInMs?: number): Promise<void>;
  mirror(args?: string[], env?: NodeJS.ProcessEnv): Promise<AgentRun>;
  spawnMirror(args?: string[]): ChildProcess;
  stop(): Promise<void>;
}

export async function makeMirrorWorld(): Promise<MirrorWorld> {
  const env = await makeAgentEnv();
  const mirrorDir = path.join(env.dir, 'mirror');
  await mkdir(mirrorDir, { recursive: true });
  const served = await startNginx({ root: mirrorDir, cert: env.tls.serverCert, key: env.tls.serverKey });
  const mirrorIni = path.join(env.dir, 'mirror.ini');
  await writeFile(
    mirrorIni,
    `[global]\nrepo_url = ${env.nginx.url}\nverify_cert = ${env.tls.caCert}\ntrusted_certs_dir = ${env.pki.trustedDir}\n` +
      `dbdir = ${path.join(env.dir, 'mirror-db')}\nlock_timeout = 5\ntimeout = 5\n`,
  );
  const sign = async (expiresInMs = DAY) => {
    const r = await scanPackages(env.repoDir, {
      sign: { key: env.pki.codesigner.privateKey, cert: env.pki.codesigner.cert, expiresInMs, repository: REPOSITORY },
    });
    if (r.skipped.length > 0) throw new Error(`scan skipped ${JSON.stringify(r.skipped)}`);
  };
  const args = (extra: string[]) => ['-c', mirrorIni, ...extra, 'mirror', env.nginx.url, mirrorDir];
  return {
    env,
    mirrorDir,
    served,
    mirrorIni,
    async publish(specs, kib = 4) {
      const out: string[] = [];
      for (const s of specs)
        out.push(await buildTestPackage(env.pki, env.dir, env.repoDir, { ...s, files: { 'payload.bin': randomBytes(kib * 1024), ...s.files } }));
      await sign();
      return out;
    },
    sign,
    mirror: (extra = [], e = {}) => collect(spawnAgent([...args([]), ...extra], e), 120_000),
    spawnMirror: (extra = []) => spawnAgent([...args([]), ...extra]),
    async stop() {
      await served.stop();
      await env.stop();
      cleanupPki(env.pki);
    },
  };
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** GET lines for *.wapt files in an nginx access log since `from` lines. */
export async function waptGets(n: NginxHandle, from = 0): Promise<string[]> {
  return (await n.readAccessLog())
    .slice(from)
    .filter((l) => l.startsWith('GET ') && l.split(' ')[1]!.endsWith('.wapt'))
    .map((l) => l.split(' ')[1]!.slice(1));
}

/**
 * What a client reading `dir` sees: every file its Packages lists is present with the
 * sha256 the entry names (old or new repository, never a mix). Returns the listed names.
 */
export async function consistentListing(dir: string): Promise<string[]> {
  const index = await readPackagesZip(path.join(dir, 'Packages'));
  const names: string[] = [];
  for (const e of index.entries) {
    const file = e.get('filename')!;
    const bytes = await readFile(path.join(dir, file));
    expect({ file, sha256: sha256(bytes) }).toEqual({ file, sha256: e.get('sha256') });
    names.push(file);
  }
  return names;
}

export async function waptFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.wapt')).sort();
}
