// W-F4: the host package, fetched directly as <host repo>/<host-uuid>.wapt (404: the
// host has none). It is verified in full (it is a whole package, not an index entry)
// and recorded as the only available entry of repository `wapt-host`.
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WaptError, isWaptError } from '../../errors.js';
import { hashFile } from '../../package/index.js';
import { verifyPackage } from '../../package/index.js';
import type { RepoConfig } from '../config.js';
import type { HttpClient } from '../../repo/index.js';
import { memberUrl } from './source.js';
import type { RepoUpdateResult, UpdateDeps } from './repo.js';
import { entryFromControl, isSafeFilename } from './verify-index.js';

export const HOST_REPO = 'wapt-host';

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
  try {
    verified = await verifyPackage(tmp, { trust: deps.trust, at: now });
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await rename(tmp, dest);
  const digests = await hashFile(dest, ['md5', 'sha256']);
  const fields = new Map(verified.control);
  fields.set('filename', filename);
  fields.set('size', String((await stat(dest)).size));
  fields.set('md5sum', digests.md5!);
  fields.set('sha256', digests.sha256!);
  deps.db.transaction(() => {
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
