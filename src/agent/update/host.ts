// W-F4: the host package, fetched directly as <host repo>/<host-uuid>.wapt (404: the
// host has none). It is verified in full (it is a whole package, not an index entry)
// and recorded as the only available entry of repository `wapt-host`. The host
// repository outranks every other, so it is a second index with its own checks
// (issue 8 §3): the package must be named after this host (it can add requirements
// to this host, never stand in for another package), and its (version,
// signature_date) never goes back from the last one accepted, which is kept in
// params across a 404. Any refusal happens before the DB or the cached copy change.
import { rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { WaptError, isWaptError } from '../../errors.js';
import { checkHostPackage, hashFile, verifyHostPackageFile, type AcceptedHostPackage } from '../../package/index.js';
export { isHostPackageName, checkHostPackage, type AcceptedHostPackage } from '../../package/index.js';
import type { WaptDb } from '../db/index.js';
import type { RepoConfig } from '../config.js';
import type { HttpClient } from '../../repo/index.js';
import { memberUrl } from './source.js';
import type { RepoUpdateResult, UpdateDeps } from './repo.js';
import { entryFromControl, isSafeFilename } from './verify-index.js';

export const HOST_REPO = 'wapt-host';

const acceptedKey = (hostUuid: string) => `host_package_accepted:${hostUuid.toLowerCase()}`;

export function lastAcceptedHostPackage(db: WaptDb, hostUuid: string): AcceptedHostPackage | null {
  const raw = db.params.get(acceptedKey(hostUuid));
  if (raw === undefined || raw === null) return null;
  try {
    return JSON.parse(raw) as AcceptedHostPackage;
  } catch {
    return null;
  }
}

export async function updateHostPackage(deps: UpdateDeps, repo: RepoConfig, hostUuid: string, client: HttpClient, now = new Date()): Promise<RepoUpdateResult> {
  const filename = `${hostUuid}.wapt`;
  if (!isSafeFilename(filename)) throw new WaptError('CONFIG_INVALID', `host_uuid ${JSON.stringify(hostUuid)} cannot name a file`);
  const dest = join(deps.config.cacheDir, filename);
  const tmp = `${dest}.new`;
  const previous = deps.db.repos.get(HOST_REPO);
  const haveFile = (await stat(dest).catch(() => null))?.isFile() === true;
  const known = haveFile && previous && previous.url === repo.url && (previous.etag || previous.last_modified);
  const conditional = known ? { etag: previous.etag ?? undefined, lastModified: previous.last_modified ?? undefined } : undefined;
  const result = (packages: number): RepoUpdateResult => ({
    repo: HOST_REPO,
    url: repo.url,
    status: 'updated',
    packages,
    rejected: 0,
    rejected_entries: [],
    signed: false,
    index_version: null,
    index_expires: null,
  });

  let res;
  try {
    res = await client.fetchToFile(memberUrl(repo.url, filename), tmp, { conditional });
  } catch (err) {
    if (!(isWaptError(err, 'HTTP_STATUS') && err.detail.status === 404)) throw err;
    // W-F4: 404 = this host has no package (any more).
    deps.db.transaction(() => {
      deps.db.available.replaceRepo(HOST_REPO, []);
      deps.db.repos.put({
        name: HOST_REPO,
        url: repo.url,
        last_update: now.toISOString(),
        etag: null,
        last_modified: null,
        packages_count: 0,
        rejected_count: 0,
      });
    });
    await deps.db.persist();
    await rm(dest, { force: true });
    return result(0);
  }
  if (res.status === 'not-modified') return { ...result(deps.db.available.count(HOST_REPO)), status: 'not-modified' };

  let verified;
  let digests;
  let accepted: AcceptedHostPackage;
  try {
    // W-D3..W-D5: verified in full (the code-signing rule applies here as everywhere), then the
    // trust policy is asked about the signer in the role of a host package.
    verified = await verifyHostPackageFile(tmp, { trust: deps.trust, at: now, source: basename(tmp) });
    digests = await hashFile(tmp, ['md5', 'sha256']);
    accepted = checkHostPackage(verified, digests.sha256!, hostUuid, lastAcceptedHostPackage(deps.db, hostUuid));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await rename(tmp, dest);
  const fields = new Map(verified.control);
  fields.set('filename', filename);
  fields.set('size', String((await stat(dest)).size));
  fields.set('md5sum', digests.md5!);
  fields.set('sha256', digests.sha256!);
  deps.db.transaction(() => {
    deps.db.params.set(acceptedKey(hostUuid), JSON.stringify(accepted));
    deps.db.available.replaceRepo(HOST_REPO, [entryFromControl(fields, verified.signerFingerprint)]);
    deps.db.repos.put({
      name: HOST_REPO,
      url: repo.url,
      last_update: now.toISOString(),
      etag: res.etag ?? null,
      last_modified: res.lastModified ?? null,
      packages_count: 1,
      rejected_count: 0,
    });
  });
  await deps.db.persist();
  return result(1);
}
