// `wapt-get make-template KIND NAME`: a new package source directory from templates/.
import path from 'node:path';
import { makeTemplate, TEMPLATE_KINDS } from '../../package/index.js';
import type { CommandSpec } from '../command.js';

export const command: CommandSpec = {
  name: 'make-template',
  summary: 'create a package source directory from a template',
  args: ['<kind>', '<name>'],
  options: [
    { flags: '--dir <dir>', description: 'directory to create (default: ./NAME-wapt)' },
    // Not --version: commander gives the global -V/--version precedence over a subcommand's option.
    { flags: '--package-version <version>', description: 'package version (SOFT-PACKAGING)', default: '0.1-1' },
    { flags: '--description <text>', description: 'control description' },
    { flags: '--maintainer <text>', description: 'control maintainer (default: $USER)' },
  ],
  help: [
    `Kinds: ${TEMPLATE_KINDS.join(', ')}.`,
    '  deb     install a .deb shipped in the package (apt-get/dpkg)',
    '  dir     deploy a directory of files to a target path',
    '  script  run shell scripts shipped in the package on install/uninstall',
    '  msi     silent MSI install (msiexec /qn /norestart), Windows',
    '  exe     silent .exe install (/S or /VERYSILENT), Windows',
    '  group, host, unit   control only: list packages in depends',
    '',
    'Example:',
    '  wapt-get make-template dir tis-fonts --description "Company fonts"',
    '  wapt-get build-package tis-fonts-wapt',
  ].join('\n'),
  async run(ctx, args, opts) {
    const [kind, name] = args as [string, string];
    const dir = path.resolve(ctx.cwd, (opts.dir as string | undefined) ?? `${name}-wapt`);
    const made = await makeTemplate(kind, name, dir, {
      version: opts.packageVersion as string | undefined,
      description: opts.description as string | undefined,
      maintainer: (opts.maintainer as string | undefined) ?? ctx.env.USER ?? ctx.env.USERNAME ?? '',
    });
    ctx.out.result({ kind, package: name, dir: made.dir, files: made.files }, () => [
      `created ${made.dir} (${kind} template for ${name})`,
      ...made.files.map((f) => `  ${f}`),
    ]);
  },
};
