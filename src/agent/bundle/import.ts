// `update --from-bundle site.tar`: the bundle is unpacked under dbdir/bundles/<name>,
// its index passes exactly the checks of an HTTPS repository (X2 statement, W-F3
// entries), and only then replaces the previous copy. The directory then serves as a
// `file:` repository: downloads copy from it and verify every package as usual.
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WaptError } from '../../errors.js';
import type { AgentRuntime } from '../runtime.js';
import { HOST_REPO, readAndVerify, storeIndex, type RepoUpdateResult } from '../update/index.js';
import { extractBundleTar } from './tar.js';

export const DEFAULT_BUNDLE_REPO = 'bundle';

export interface ImportBundleOptions {
  /** Repository name the bundle is known by (its rollback state is kept under it). */
  name?: string;
  now?: Date;
}

export async function importBundle(rt: AgentRuntime, tarPath: string, opts: ImportBundleOptions = {}): Promise<RepoUpdateResult> {
  const name = opts.name ?? DEFAULT_BUNDLE_REPO;
  const now = opts.now ?? new Date();
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) throw new WaptError('USAGE', `bundle name ${JSON.stringify(name)}: use letters, digits, . _ -`);
  if (name === HOST_REPO || rt.config.repos.some((r) => r.name === name)) {
    throw new WaptError('USAGE', `${name} is a configured repository; import the bundle under another name (--as)`);
  }
  if (!(await stat(tarPath).catch(() => null))?.isFile()) throw new WaptError('IO_ERROR', `${tarPath}: no such bundle file`);
  const bundles = join(rt.config.dbdir, 'bundles');
  await mkdir(bundles, { recursive: true });
  const tmp = await mkdtemp(join(bundles, `.${name}-`));
  try {
    const members = await extractBundleTar(tarPath, tmp);
    if (!members.includes('Packages')) throw new WaptError('INDEX_INVALID', `${tarPath}: the bundle holds no Packages index`);
    // X2: rollback state follows the statement's repository identity, not this local name.
    const verified = await readAndVerify(rt, join(tmp, 'Packages'), name, rt.config.allowUnsignedIndex, now);
    const final = join(bundles, name);
    const old = `${tmp}.old`;
    await rename(final, old).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(tmp, final);
    await rm(old, { recursive: true, force: true });
    return await storeIndex(rt, { name, url: pathToFileURL(final).href }, verified, { etag: null, lastModified: null }, now);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
