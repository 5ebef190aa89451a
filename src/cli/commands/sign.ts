import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { CommandSpec } from '../command.js';
import { loadSigner, SIGNER_OPTIONS, signingDate } from '../signing-key.js';
import { signerPathsFrom } from '../context.js';

export const command: CommandSpec = {
  name: 'sign',
  aliases: ['sign-package'],
  summary: 're-sign existing .wapt packages with another key and certificate',
  args: ['<packages...>'],
  options: [
    { flags: '-o, --out-dir <dir>', description: 'write the signed copies here (created if missing) instead of replacing the files' },
    { flags: '-n, --dry-run', description: 'check and sign into a temporary directory, say what would change, write nothing' },
    { flags: '--force', description: 'sign even if the content no longer matches its manifest (DANGEROUS: you vouch for altered content)' },
    ...SIGNER_OPTIONS,
  ],
  async run(ctx, [files], opts) {
    const { resignPackage } = await import('../../package/index.js');
    const signer = await loadSigner(ctx, await signerPathsFrom(ctx, opts));
    const { date, reproducible } = await signingDate(ctx.env);
    const dryRun = Boolean(opts.dryRun);
    const outDir = opts.outDir ? resolve(ctx.cwd, opts.outDir) : undefined;
    // a dry run signs into a private directory that is thrown away
    const scratch = dryRun ? await mkdtemp(join(os.tmpdir(), 'wapt-sign-')) : undefined;
    if (outDir && !dryRun) await mkdir(outDir, { recursive: true });
    const signed: { path: string; package?: string; version?: string; forced: boolean }[] = [];
    try {
      for (const f of files as string[]) {
        const src = resolve(ctx.cwd, f);
        const r = await resignPackage(src, {
          signer,
          date,
          reproducible,
          outDir: scratch ?? outDir,
          force: Boolean(opts.force),
          onWarning: (m) => ctx.out.warn(m),
        });
        const path = scratch ? join(outDir ?? dirname(src), basename(r.path)) : r.path;
        signed.push({ path, package: r.control.get('package'), version: r.control.get('version'), forced: r.forced });
      }
    } finally {
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
    ctx.out.result({ signed, dry_run: dryRun }, () => [
      ...signed.map((s) => `${dryRun ? 'would sign' : 'signed'} ${s.path}${s.forced ? ' (FORCED over altered content)' : ''}`),
      ...(dryRun ? ['(dry run: nothing was written)'] : []),
    ]);
  },
};
