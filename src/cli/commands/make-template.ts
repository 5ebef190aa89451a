// `wapt-get make-template KIND NAME`: a new package source directory from templates/.
// `make-template msi FILE.msi` / `make-template exe FILE.exe` derive it from the installer.
import path from 'node:path';
import { makeTemplate, makeTemplateFromInstaller, TEMPLATE_KINDS } from '../../package/index.js';
import type { CommandSpec } from '../command.js';

/** `msi x.msi`, `exe Setup.EXE`: the second argument names an installer rather than a package. */
function installerArg(kind: string, name: string): kind is 'msi' | 'exe' {
  return (kind === 'msi' || kind === 'exe') && name.toLowerCase().endsWith(`.${kind}`);
}

export const command: CommandSpec = {
  name: 'make-template',
  summary: 'create a package source directory from a template (or from an .msi/.exe installer)',
  args: ['<kind>', '<name>'],
  options: [
    { flags: '--dir <dir>', description: 'directory to create (default: ./NAME-wapt)' },
    // Not --version: commander gives the global -V/--version precedence over a subcommand's option.
    { flags: '--package-version <version>', description: 'package version (SOFT-PACKAGING; default 0.1-1, from an MSI: ProductVersion-1)' },
    { flags: '--description <text>', description: 'control description' },
    { flags: '--maintainer <text>', description: 'control maintainer (default: $USER)' },
    { flags: '--package-name <name>', description: 'with an installer file: the package name (default: tis-<product name>)' },
    { flags: '--prefix <prefix>', description: 'with an installer file: package name prefix (default: tis)' },
  ],
  help: [
    `Kinds: ${TEMPLATE_KINDS.join(', ')}.`,
    '  deb     install a .deb shipped in the package (apt-get/dpkg)',
    '  dir     deploy a directory of files to a target path',
    '  script  run shell scripts shipped in the package on install/uninstall',
    '  msi     MSI install if needed (msiexec /qn /norestart /L*v), Windows',
    '  exe     silent .exe install (Inno Setup, NSIS, InstallShield switches), Windows',
    '  group, host, unit   control only: list packages in depends',
    '',
    'With an installer as NAME, the template is filled from it and the installer copied in:',
    '  msi FILE.msi   ProductName, ProductVersion, ProductCode and Manufacturer from the MSI',
    '  exe FILE.exe   Inno Setup / NSIS / InstallShield detected, their silent switches proposed',
    '',
    'Examples:',
    '  wapt-get make-template dir tis-fonts --description "Company fonts"',
    '  wapt-get make-template msi ./Firefox-Setup.msi',
    '  wapt-get build-package tis-fonts-wapt',
  ].join('\n'),
  async run(ctx, args, opts) {
    const [kind, name] = args as [string, string];
    const vars = {
      version: opts.packageVersion as string | undefined,
      description: opts.description as string | undefined,
      maintainer: (opts.maintainer as string | undefined) ?? ctx.env.USER ?? ctx.env.USERNAME ?? '',
    };
    if (installerArg(kind, name)) {
      const made = await makeTemplateFromInstaller(kind, name, {
        ...vars,
        cwd: ctx.cwd,
        destDir: opts.dir as string | undefined,
        packageName: opts.packageName as string | undefined,
        prefix: opts.prefix as string | undefined,
      });
      const { msi, exe } = made.installer;
      ctx.out.result({ kind, package: made.package, dir: made.dir, files: made.files, installer: { file: made.installer.file, msi, exe } }, () => [
        `created ${made.dir} (${kind} template for ${made.package} from ${made.installer.file})`,
        ...(msi ? [`  ${msi.productName} ${msi.productVersion} by ${msi.manufacturer}, ProductCode ${msi.productCode}`] : []),
        ...(exe
          ? [`  installer: ${exe.kind}${exe.marker ? ` ("${exe.marker}")` : ''}; silent switches: ${exe.silentArgs.join(' ') || '(none known: edit SILENT)'}`]
          : []),
        ...made.files.map((f) => `  ${f}`),
      ]);
      return;
    }
    const dir = path.resolve(ctx.cwd, (opts.dir as string | undefined) ?? `${name}-wapt`);
    const made = await makeTemplate(kind, name, dir, vars);
    ctx.out.result({ kind, package: name, dir: made.dir, files: made.files }, () => [
      `created ${made.dir} (${kind} template for ${name})`,
      ...made.files.map((f) => `  ${f}`),
    ]);
  },
};
