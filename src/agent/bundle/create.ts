// `wapt-get bundle`: the repository's index exactly as published (with its signed
// statement) plus the package files NAME… needs, resolved with their dependencies,
// for sites without network access. Everything is verified before it is packed, and
// is verified again where it is imported and installed.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { WaptError } from '../../errors.js';
import type { RepoConfig } from '../config.js';
import { fetchVerifiedPackage } from '../cache.js';
import { hostEnvironment, type EnvironmentOverrides } from '../environment.js';
import { resolve, type Candidate } from '../resolver/index.js';
import type { AgentRuntime } from '../runtime.js';
import { fetchIndex, memberUrl, readAndVerify, sourceForUrl, type RejectedEntry } from '../update/index.js';
import { writeTar, type TarFile } from './tar.js';
import { parseControl } from '../../package/index.js';

export interface CreateBundleOptions {
  out: string;
  names: string[];
  /** Repository to bundle (default: the first configured one). */
  repo?: string;
  /** Target hosts may differ from this one (architecture, OS). */
  env?: EnvironmentOverrides;
  now?: Date;
}

export interface BundleResult {
  out: string;
  size: number;
  repo: string;
  index_version: number | null;
  signed: boolean;
  packages: { package: string; version: string; filename: string; size: number }[];
  rejected: RejectedEntry[];
}

function pickRepo(rt: AgentRuntime, name: string | undefined): RepoConfig {
  const repo = name === undefined ? rt.config.repos[0] : rt.config.repos.find((r) => r.name === name);
  if (!repo) {
    throw new WaptError(
      'CONFIG_INVALID',
      name === undefined ? `no repository is configured in ${rt.config.configPath}` : `no repository named ${name} in ${rt.config.configPath}`,
    );
  }
  return repo;
}

export async function createBundle(rt: AgentRuntime, opts: CreateBundleOptions): Promise<BundleResult> {
  if (opts.names.length === 0) throw new WaptError('USAGE', 'name at least one package to bundle');
  const now = opts.now ?? new Date();
  const repo = pickRepo(rt, opts.repo);
  await mkdir(rt.config.cacheDir, { recursive: true });
  const work = await mkdtemp(join(rt.config.cacheDir, '.bundle-'));
  try {
    const source = sourceForUrl(repo.url, () => rt.http(repo));
    const indexPath = join(work, 'Packages');
    const fetched = await fetchIndex(source, indexPath, undefined, repo.url);
    // The same checks as update: the bundle carries nothing this host would refuse over HTTPS.
    const verified = await readAndVerify(rt, fetched.path!, repo.name, repo.allowUnsignedIndex, now);
    const cands: Candidate[] = verified.accepted.map((e) => ({
      control: parseControl(e.control),
      repo: repo.name,
      repoPriority: repo.priority,
      filename: e.filename,
      ...(e.size != null ? { size: e.size } : {}),
      ...(e.sha256 ? { sha256: e.sha256 } : {}),
      ...(e.md5sum ? { md5sum: e.md5sum } : {}),
    }));
    const plan = resolve({ kind: 'install', names: opts.names, force: true }, cands, [], hostEnvironment(rt.config, { now, ...opts.env }));
    const files: TarFile[] = [{ name: 'Packages', path: fetched.path! }];
    const packages: BundleResult['packages'] = [];
    for (const step of plan.order) {
      const c = step.candidate;
      if (step.action === 'remove' || !c) continue;
      const got = await fetchVerifiedPackage({
        url: memberUrl(repo.url, c.filename),
        client: source.kind === 'http' ? source.client : undefined,
        dest: join(rt.config.cacheDir, c.filename),
        expected: { package: step.package, version: step.toVersion, size: c.size, sha256: c.sha256, md5sum: c.md5sum },
        trust: rt.trust,
        now,
      });
      rt.log.info(`${got.status === 'cached' ? 'cached    ' : 'downloaded'} ${c.filename}`);
      files.push({ name: c.filename, path: got.path });
      packages.push({ package: step.package, version: step.toVersion ?? '', filename: c.filename, size: got.size });
    }
    const out = resolvePath(opts.out);
    const size = await writeTar(out, files, now);
    return {
      out,
      size,
      repo: repo.name,
      index_version: verified.statement?.version ?? null,
      signed: verified.statement !== null,
      packages,
      rejected: verified.rejected,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
