import { resolve } from 'node:path';
import type { CommandSpec } from '../command.js';
import { loadSigner, SIGNER_OPTIONS, signingDate } from '../signing-key.js';
import { signerPathsFrom } from '../context.js';

export const command: CommandSpec = {
  name: 'sign',
  aliases: ['sign-package'],
  summary: 're-sign existing .wapt packages with another key and certificate',
  args: ['<packages...>'],
  options: [
    { flags: '-o, --out-dir <dir>', description: 'write the signed copies here instead of replacing the files' },
    { flags: '--force', description: 'sign even if the content no longer matches its manifest (DANGEROUS: you vouch for altered content)' },
    ...SIGNER_OPTIONS,
  ],
  async run(ctx, [files], opts) {
    const { resignPackage } = await import('../../package/index.js');
    const signer = await loadSigner(ctx, await signerPathsFrom(ctx, opts));
    const { date, reproducible } = await signingDate(ctx.env);
    const signed: { path: string; package?: string; version?: string; forced: boolean }[] = [];
    for (const f of files as string[]) {
      const r = await resignPackage(resolve(ctx.cwd, f), {
        signer,
        date,
        reproducible,
        outDir: opts.outDir ? resolve(ctx.cwd, opts.outDir) : undefined,
        force: Boolean(opts.force),
        onWarning: (m) => ctx.out.warn(m),
      });
      signed.push({ path: r.path, package: r.control.get('package'), version: r.control.get('version'), forced: r.forced });
    }
    ctx.out.result({ signed }, () => signed.map((s) => `signed ${s.path}${s.forced ? ' (FORCED over altered content)' : ''}`));
  },
};
