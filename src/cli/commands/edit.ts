// `wapt-get edit SOURCE`: WAPT's edit: a package back into a source directory for the
// packager to change. SOURCE is a `.wapt` file or a requirement in a repository (the main
// one, or `--repo SECTION`), verified against that repository's trust before a byte is
// unpacked (from the verified bytes). Nothing is renamed or re-signed here: change it,
// bump its version, then build-upload it.
import { resolve } from 'node:path';
import type { CommandSpec } from '../command.js';
import { assertEmptyTarget, openPackageSource, SOURCE_OPTIONS } from '../package-source.js';

export const command: CommandSpec = {
  name: 'edit',
  summary: 'unpack a verified package (a .wapt file or a name in a repository) into a source directory to change it',
  args: ['<source>'],
  options: [
    ...SOURCE_OPTIONS,
    { flags: '--source-dir <dir>', description: 'where to unpack it (default: ./NAME-wapt)' },
    { flags: '--dry-run', description: 'verify the source and say where it would go; write nothing' },
  ],
  help: [
    'SOURCE that is not a .wapt file is looked up in the main repository (repo_url), or in --repo SECTION.',
    'Then edit the directory, raise the version in WAPT/control, and publish it:',
    '  wapt-get edit tis-firefox && $EDITOR tis-firefox-wapt/WAPT/control',
    '  wapt-get build-upload tis-firefox-wapt --to /var/www/wapt',
  ].join('\n'),
  async run(ctx, [sourceArg], opts) {
    const pkg = await import('../../package/index.js');
    const source = sourceArg as string;
    const isFile = source.toLowerCase().endsWith('.wapt') && !opts.repo;
    const src = await openPackageSource(ctx, source, opts, isFile ? undefined : ((opts.repo as string | undefined) ?? 'global'));
    try {
      const v = await pkg.verifyPackage(src.file, { trust: src.trust });
      const sourceDir = resolve(ctx.cwd, (opts.sourceDir as string | undefined) ?? `${v.package}-wapt`);
      await assertEmptyTarget(sourceDir);
      const result = { package: v.package, version: v.version, signer: v.signer, source_dir: sourceDir, dry_run: Boolean(opts.dryRun) };
      if (opts.dryRun) {
        ctx.out.result(result, () => `would unpack ${v.package} ${v.version} (signed by ${v.signer}) into ${sourceDir}`);
        return;
      }
      await pkg.unpackVerified(src.file, sourceDir, { trust: src.trust });
      ctx.out.result(result, () => [
        `unpacked ${v.package} ${v.version} (signed by ${v.signer}) into ${sourceDir}`,
        `raise its version in ${resolve(sourceDir, 'WAPT', 'control')}, then \`wapt-get build-upload ${sourceDir} --to …\``,
      ]);
    } finally {
      await src.cleanup();
    }
  },
};
