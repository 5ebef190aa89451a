// `wapt-get build-upload DIR… --to DIR|URL`: build-package then upload-package, the
// packager's one step from a source directory to a published package.
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { signerPathsFrom, trustStoreFor } from '../context.js';
import { loadSigner, SIGNER_OPTIONS, signingDate } from '../signing-key.js';
import { uploadToServer, UPLOAD_OPTIONS } from '../upload.js';

export const command: CommandSpec = {
  name: 'build-upload',
  summary: 'build and sign package source directories, then publish them (build-package + upload-package)',
  args: ['<dirs...>'],
  options: [
    { flags: '--to <dir-or-url>', description: 'a repository directory (web root), or https://server of `wapt-get serve`' },
    { flags: '--force', description: 'replace an already published name_version that has other bytes' },
    { flags: '--dry-run', description: 'build into a temporary directory, verify, and say what would be published' },
    ...UPLOAD_OPTIONS,
    ...SIGNER_OPTIONS,
  ],
  async run(ctx, [dirs], opts) {
    const { buildPackage, verifyPackage } = await import('../../package/index.js');
    const { publishToDir } = await import('../../repo/index.js');
    if (!opts.to) throw new WaptError('USAGE', 'build-upload needs --to DIR or --to https://server');
    const signer = await loadSigner(ctx, await signerPathsFrom(ctx, opts));
    const { date, reproducible } = await signingDate(ctx.env);
    const trust = await trustStoreFor(ctx, undefined);
    const work = await mkdtemp(join(tmpdir(), 'wapt-get-build-upload-'));
    const results: Record<string, unknown>[] = [];
    try {
      await chmod(work, 0o700);
      const built = [];
      for (const d of dirs as string[]) built.push(await buildPackage(resolve(ctx.cwd, d), { signer, outDir: work, date, reproducible }));
      // The same check a client makes: a package our own trusted directory refuses is not published.
      for (const b of built) await verifyPackage(b.path, { trust });
      const to = opts.to as string;
      for (const b of built) {
        const r = /^https?:\/\//i.test(to)
          ? await uploadToServer(ctx, to, b.path, opts)
          : { ...(await publishToDir(b.path, resolve(ctx.cwd, to), { force: Boolean(opts.force), dryRun: Boolean(opts.dryRun) })) };
        results.push({ package: b.control.get('package'), version: b.control.get('version'), ...r });
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    ctx.out.result({ dry_run: Boolean(opts.dryRun), uploaded: results }, () =>
      results.map((r) => `${opts.dryRun ? `would be ${r.status as string}` : (r.status as string)}: ${r.path as string}`),
    );
  },
};
