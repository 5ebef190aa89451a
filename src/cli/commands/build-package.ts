// `wapt-get build-package DIR… [-o REPO]`: build and sign, then publish into the output
// directory through the one publishing rule (src/repo/publish): an existing
// name_version.wapt with other bytes is refused unless --force, as apt repositories and
// `choco push` refuse, because clients may already hold the published file.
import { mkdtemp, rm, stat, utimes } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import type { CommandSpec } from '../command.js';
import { loadSigner, SIGNER_OPTIONS, signingDate } from '../signing-key.js';
import { signerPathsFrom } from '../context.js';

export const command: CommandSpec = {
  name: 'build-package',
  summary: 'build and sign a .wapt package from a source directory holding WAPT/control',
  args: ['<dirs...>'],
  options: [
    { flags: '-o, --out-dir <dir>', description: 'where to write the .wapt (created if missing; default: the current directory)' },
    { flags: '-f, --force', description: 'replace an existing name_version.wapt that has other bytes (clients may hold the old one)' },
    { flags: '-n, --dry-run', description: 'build and sign in a temporary directory, say what would be written, write nothing' },
    ...SIGNER_OPTIONS,
  ],
  help: 'SOURCE_DATE_EPOCH=<seconds> makes the output byte-for-byte reproducible.\nPackages with setup code (setup.mjs / setup.py) need a code-signing certificate.',
  async run(ctx, [dirs], opts) {
    const { buildPackage } = await import('../../package/index.js');
    const { publishToDir } = await import('../../repo/index.js');
    const signer = await loadSigner(ctx, await signerPathsFrom(ctx, opts));
    const { date, reproducible } = await signingDate(ctx.env);
    const outDir = resolve(ctx.cwd, opts.outDir ?? '.');
    const dryRun = Boolean(opts.dryRun);
    // built privately first: the output directory only ever sees a complete, checked file
    const work = await mkdtemp(join(os.tmpdir(), 'wapt-build-'));
    const built: { path: string; package?: string; version?: string; package_uuid?: string; status: string; sha256: string }[] = [];
    try {
      for (const dir of dirs as string[]) {
        const r = await buildPackage(resolve(ctx.cwd, dir), { signer, outDir: work, date, reproducible });
        const pub = await publishToDir(r.path, outDir, { force: Boolean(opts.force), dryRun });
        // keep the build's mtime (SOURCE_DATE_EPOCH when reproducible) on the published copy
        const built_ = await stat(r.path);
        if (!dryRun && pub.status !== 'unchanged') await utimes(pub.path, built_.atime, built_.mtime);
        await rm(r.path, { force: true });
        const verb = dryRun ? 'would write' : pub.status === 'unchanged' ? 'unchanged' : pub.status === 'replaced' ? 'replaced' : 'built';
        ctx.out.info(`${verb} ${pub.path} (${r.files} payload files)`);
        built.push({
          path: pub.path,
          package: r.control.get('package'),
          version: r.control.get('version'),
          package_uuid: r.control.get('package_uuid'),
          status: pub.status,
          sha256: pub.sha256,
        });
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    ctx.out.result({ built, dry_run: dryRun }, () => [...built.map((b) => b.path), ...(dryRun ? ['(dry run: nothing was written)'] : [])]);
  },
};
