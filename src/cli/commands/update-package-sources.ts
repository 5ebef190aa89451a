// `wapt-get update-package-sources DIR`: let the package's update_package() hook fetch the
// latest upstream installer and bump WAPT/control, leaving DIR ready for build-package.
import { resolve } from 'node:path';
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';

export const command: CommandSpec = {
  name: 'update-package-sources',
  summary: "run a source directory's update_package() hook: fetch the latest installer, bump the version",
  args: ['<dir>'],
  options: [{ flags: '--dry-run', description: 'run the hook on a private copy and report the version it would set; DIR is not touched' }],
  help: 'The hook downloads with h.download(url, name, { sha256 }) and returns { version }. See templates/msi and templates/exe.',
  async run(ctx, [dir], opts) {
    const { updatePackageSources } = await import('../../agent/index.js');
    const cfg = await configOf(ctx);
    const r = await updatePackageSources(resolve(ctx.cwd, dir as string), {
      timeoutMs: cfg.installTimeoutMs,
      dryRun: Boolean(opts.dryRun),
      onOutput: ctx.out.json ? undefined : (chunk) => ctx.out.info(chunk.replace(/\n$/, '')),
    });
    const { output: _output, ...data } = r;
    ctx.out.result({ ...data, dry_run: Boolean(opts.dryRun) }, () =>
      r.changed ? `${r.package}: ${r.from_version} → ${r.version}${opts.dryRun ? ' (dry run: nothing written)' : ''}` : `${r.package} ${r.version} is current`,
    );
  },
};
