// `wapt-get upload-package PKG… --to DIR|URL`: publish verified packages into a web
// root (or, with an https:// URL, to `serve`'s admin API). A package that does not
// verify is refused, and so is an existing name_version with other bytes (PACKAGE_EXISTS).
import { resolve } from 'node:path';
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { trustStoreFor } from '../context.js';
import { uploadToServer, UPLOAD_OPTIONS } from '../upload.js';

export const command: CommandSpec = {
  name: 'upload-package',
  summary: 'publish .wapt packages into a repository directory or to a wapt-get serve',
  args: ['<packages...>'],
  options: [
    { flags: '--to <dir-or-url>', description: 'a repository directory (web root), or https://server of `wapt-get serve`' },
    { flags: '--force', description: 'replace an already published name_version that has other bytes' },
    { flags: '--trusted <dir>', description: 'trusted directory the packages must verify against (default: ours)' },
    { flags: '--dry-run', description: 'verify and say what would be published; write nothing' },
    ...UPLOAD_OPTIONS,
  ],
  help: 'After publishing into a directory, run `wapt-get scanpackages DIR --sign …` to index it; `serve` re-indexes by itself.',
  async run(ctx, [files], opts) {
    const { verifyPackage } = await import('../../package/index.js');
    const { publishToDir } = await import('../../repo/index.js');
    if (!opts.to) throw new WaptError('USAGE', 'upload-package needs --to DIR or --to https://server');
    const trust = await trustStoreFor(ctx, opts.trusted);
    const paths = (files as string[]).map((f) => resolve(ctx.cwd, f));
    // Every package verifies before anything is published: one bad file publishes nothing.
    const verified = [];
    for (const p of paths) verified.push(await verifyPackage(p, { trust }));
    const to = opts.to as string;
    const results: Record<string, unknown>[] = [];
    if (/^https?:\/\//i.test(to)) {
      for (const v of verified) results.push(await uploadToServer(ctx, to, v.file, opts));
    } else {
      const dir = resolve(ctx.cwd, to);
      for (const v of verified) {
        const r = await publishToDir(v.file, dir, { force: Boolean(opts.force), dryRun: Boolean(opts.dryRun) });
        results.push({ package: v.package, version: v.version, ...r });
      }
    }
    ctx.out.result({ dry_run: Boolean(opts.dryRun), uploaded: results }, () =>
      results.map((r) => `${opts.dryRun ? `would be ${r.status as string}` : (r.status as string)}: ${r.path as string}`),
    );
  },
};
