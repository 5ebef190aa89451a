// `wapt-get make-host-template UUID|FQDN`: a host package source directory (W-F4: the
// package is named after the host; control only, so a deployer key may sign it).
import path from 'node:path';
import type { CommandSpec } from '../command.js';

export const command: CommandSpec = {
  name: 'make-host-template',
  summary: 'create a host package source directory (package = the host UUID or FQDN)',
  args: ['<host>'],
  options: [
    { flags: '--dir <dir>', description: 'directory to create (default: ./HOST-wapt)' },
    { flags: '--depends <list>', description: 'comma-separated packages the host must have' },
    { flags: '--description <text>', description: 'control description' },
    { flags: '--dry-run', description: 'say which directory would be made with which depends; write nothing' },
  ],
  help: 'Build it with build-package into the host repository (<repo>-host), or edit one in place with edit-host.',
  async run(ctx, [host], opts) {
    const { makeTemplate, assertPackageName, editSourceControl, applyRequirementEdits } = await import('../../package/index.js');
    const name = host as string;
    assertPackageName(name);
    const dir = path.resolve(ctx.cwd, (opts.dir as string | undefined) ?? `${name}-wapt`);
    const depends = typeof opts.depends === 'string' ? opts.depends.split(',').filter((s: string) => s.trim() !== '') : [];
    if (opts.dryRun) {
      ctx.out.result(
        { dry_run: true, package: name, dir, depends },
        () => `would create ${dir} (host package ${name}${depends.length ? `, depends ${depends.join(',')}` : ''})`,
      );
      return;
    }
    const made = await makeTemplate('host', name, dir, {
      description: opts.description as string | undefined,
      maintainer: ctx.env.USER ?? ctx.env.USERNAME ?? '',
    });
    if (depends.length > 0)
      await editSourceControl(dir, (c) => {
        applyRequirementEdits(c, { addDepends: depends });
        return c;
      });
    ctx.out.result({ package: name, dir: made.dir, files: made.files, depends }, () => [
      `created ${made.dir} (host package ${name})`,
      ...made.files.map((f) => `  ${f}`),
    ]);
  },
};
