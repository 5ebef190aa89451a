// `wapt-get duplicate SOURCE NEWNAME`: import a package from another repository (or a
// file) under our own name and signature. The source is verified against ITS trust
// (an upstream section's own trusted_certs_dir), unpacked from the verified bytes,
// renamed, and rebuilt with our key, so our clients never need to trust the upstream.
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CommandSpec } from '../command.js';
import { configOf, signerPathsFrom } from '../context.js';
import { assertEmptyTarget, openPackageSource, SOURCE_OPTIONS } from '../package-source.js';
import { loadSigner, SIGNER_OPTIONS, signingDate } from '../signing-key.js';

export const command: CommandSpec = {
  name: 'duplicate',
  summary: 'import a package (a .wapt file or a name in an upstream repository) under a new name, re-signed with our key',
  args: ['<source>', '<newname>'],
  options: [
    ...SOURCE_OPTIONS,
    { flags: '--package-version <version>', description: 'version of the new package (default: the source version)' },
    { flags: '--source-dir <dir>', description: 'where to unpack the source (default: ./NEWNAME-wapt)' },
    { flags: '-o, --out-dir <dir>', description: 'where to write the rebuilt .wapt (default: the current directory)' },
    { flags: '--dir-only', description: 'stop after unpacking and renaming, for review (no build)' },
    { flags: '--dry-run', description: 'verify the source and say what would be done; write nothing' },
    ...SIGNER_OPTIONS,
  ],
  help: [
    'NEWNAME without a prefix takes default_package_prefix from wapt-get.ini (firefox → tis-firefox).',
    'Example:',
    '  wapt-get duplicate --repo upstream tis-firefox acme-firefox -o /srv/wapt --key k.pem --cert k.crt',
  ].join('\n'),
  async run(ctx, [source, newNameArg], opts) {
    const pkg = await import('../../package/index.js');
    const cfg = await configOf(ctx);
    const newName = pkg.prefixedName(newNameArg as string, cfg.defaultPackagePrefix);
    if (opts.packageVersion) pkg.parseVersion(opts.packageVersion as string);
    const sourceDir = resolve(ctx.cwd, (opts.sourceDir as string | undefined) ?? `${newName}-wapt`);
    await assertEmptyTarget(sourceDir);
    // Load our signer first: a wrong password must not leave a half-made source directory.
    const signer = opts.dirOnly || opts.dryRun ? null : await loadSigner(ctx, await signerPathsFrom(ctx, opts));

    const { file, trust, cleanup } = await openPackageSource(ctx, source as string, opts);
    try {
      if (opts.dryRun) {
        const v = await pkg.verifyPackage(file, { trust });
        const plan = { source: v.package, source_version: v.version, source_signer: v.signer, package: newName, version: opts.packageVersion ?? v.version };
        ctx.out.result({ dry_run: true, ...plan, source_dir: sourceDir }, () => [
          `would duplicate ${v.package} ${v.version} (signed by ${v.signer}) as ${plan.package} ${plan.version} in ${sourceDir}`,
        ]);
        return;
      }
      const v = await pkg.unpackVerified(file, sourceDir, { trust });
      try {
        await pkg.editSourceControl(sourceDir, (c) => {
          c.set('package', newName);
          if (opts.packageVersion) c.set('version', opts.packageVersion as string);
          c.delete('package_uuid'); // a new package: a new identity at build
          return c;
        });
      } catch (err) {
        await rm(sourceDir, { recursive: true, force: true });
        throw err;
      }
      const result: Record<string, unknown> = {
        source: v.package,
        source_version: v.version,
        source_signer: v.signer,
        package: newName,
        version: opts.packageVersion ?? v.version,
        source_dir: sourceDir,
      };
      if (signer) {
        const { date, reproducible } = await signingDate(ctx.env);
        const outDir = resolve(ctx.cwd, (opts.outDir as string | undefined) ?? '.');
        const built = await pkg.buildPackage(sourceDir, { signer, outDir, date, reproducible });
        result.path = built.path;
      }
      ctx.out.result(result, () => [
        `duplicated ${v.package} ${v.version} (signed by ${v.signer}) as ${newName} in ${sourceDir}`,
        ...(result.path ? [`built ${result.path as string}`] : []),
      ]);
    } finally {
      await cleanup();
    }
  },
};
