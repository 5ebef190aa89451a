// Fetching one package from an upstream repository for the packager (duplicate, edit):
// the upstream's index and package are verified against the UPSTREAM's own trusted
// directory, never ours, and nothing is stored in the agent DB. The result is a file
// in a private directory that the caller verifies again as it unpacks it.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WaptError } from '../errors.js';
import { TrustStore } from '../crypto/index.js';
import { compareVersions, parseRequirement, satisfies } from '../package/index.js';
import { HttpClient, PACKAGES_MAX_BYTES, readPackagesZip } from '../repo/index.js';
import type { RepoConfig, WaptConfig } from './config.js';
import type { AgentLog } from './runtime.js';
import { httpOptionsForRepo } from './runtime.js';
import { memberUrl } from './update/source.js';
import { verifyIndex } from './update/verify-index.js';

export interface UpstreamFetch {
  /** The downloaded package, in a private directory removed by cleanup(). */
  path: string;
  package: string;
  version: string;
  trust: TrustStore;
  cleanup(): Promise<void>;
}

/**
 * The repository's trusted directory: an upstream section must name its own
 * (`trusted_certs_dir`); the main repository ([global], what our clients use) is ours.
 */
export async function upstreamTrust(repo: RepoConfig, log: AgentLog, config?: WaptConfig): Promise<TrustStore> {
  if (!repo.trustedCertsDir && repo.name === 'global' && config) return TrustStore.load(config.trustedCertsDir, { onWarning: (m) => log.warn(m) });
  if (!repo.trustedCertsDir) {
    throw new WaptError(
      'CONFIG_INVALID',
      `repository [${repo.name}] has no trusted_certs_dir: an upstream's signers are never taken from our own trusted directory`,
      { detail: { key: 'trusted_certs_dir', section: repo.name } },
    );
  }
  return TrustStore.load(repo.trustedCertsDir, { onWarning: (m) => log.warn(m) });
}

export async function fetchFromUpstream(config: WaptConfig, repo: RepoConfig, spec: string, env: NodeJS.ProcessEnv, log: AgentLog): Promise<UpstreamFetch> {
  const trust = await upstreamTrust(repo, log, config);
  const req = parseRequirement(spec);
  const dir = await mkdtemp(join(tmpdir(), 'wapt-get-upstream-'));
  await chmod(dir, 0o700);
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const client = new HttpClient(httpOptionsForRepo(config, repo, env, log));
  try {
    const indexPath = join(dir, 'Packages');
    await client.fetchToFile(memberUrl(repo.url, 'Packages'), indexPath, { maxBytes: PACKAGES_MAX_BYTES });
    const index = await readPackagesZip(indexPath, { onWarning: (m) => log.warn(m) });
    // X2 + W-F3 with the upstream's trust: every entry signature is checked before one is chosen.
    // A one-off fetch has no rollback state to keep, and WAPT-made upstream indexes carry no statement.
    const verified = verifyIndex(index, { trust, previous: undefined, allowUnsigned: true, now: new Date() });
    for (const r of verified.rejected.filter((x) => x.package === req.name)) log.warn(`upstream entry ${r.filename} refused: [${r.code}] ${r.message}`);
    const best = verified.accepted.filter((e) => e.package === req.name && satisfies(e.version, req)).sort((a, b) => compareVersions(b.version, a.version))[0];
    if (!best) {
      throw new WaptError('PACKAGE_NOT_FOUND', `no verified ${spec} in upstream repository [${repo.name}] (${repo.url})`, {
        detail: { package: req.name, repo: repo.name },
      });
    }
    const path = join(dir, best.filename);
    await client.fetchToFile(memberUrl(repo.url, best.filename), path, {
      expectedSha256: best.sha256 ?? undefined,
      expectedSize: best.size ?? undefined,
    });
    return { path, package: best.package, version: best.version, trust, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  } finally {
    await client.close();
  }
}
