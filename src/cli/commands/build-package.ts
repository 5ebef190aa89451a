import { resolve } from 'node:path';
import type { CommandSpec } from '../command.js';
import { loadSigner, SIGNER_OPTIONS, signingDate } from '../signing-key.js';
import { signerPathsFrom } from '../context.js';

export const command: CommandSpec = {
  name: 'build-package',
  summary: 'build and sign a .wapt package from a source directory holding WAPT/control',
  args: ['<dirs...>'],
  options: [{ flags: '-o, --out-dir <dir>', description: 'where to write the .wapt (default: the current directory)' }, ...SIGNER_OPTIONS],
  help: 'SOURCE_DATE_EPOCH=<seconds> makes the output byte-for-byte reproducible.\nPackages with setup code (setup.mjs / setup.py) need a code-signing certificate.',
  async run(ctx, [dirs], opts) {
    const { buildPackage } = await import('../../package/index.js');
    const signer = await loadSigner(ctx, await signerPathsFrom(ctx, opts));
    const { date, reproducible } = await signingDate(ctx.env);
    const outDir = resolve(ctx.cwd, opts.outDir ?? '.');
    const built: { path: string; package?: string; version?: string; package_uuid?: string }[] = [];
    for (const dir of dirs as string[]) {
      const r = await buildPackage(resolve(ctx.cwd, dir), { signer, outDir, date, reproducible });
      ctx.out.info(`built ${r.path} (${r.files} payload files)`);
      built.push({ path: r.path, package: r.control.get('package'), version: r.control.get('version'), package_uuid: r.control.get('package_uuid') });
    }
    ctx.out.result({ built }, () => built.map((b) => b.path));
  },
};
