// What edit-host and edit-group share: their options, and one run over the package room's
// editManagementPackage (W-D5: control-only packages, signed by a deployer key).
import { resolve } from 'node:path';
import type { CommandContext, CommandOptions, OptionSpec } from './command.js';
import { configOf, signerPathsFrom, trustStoreFor } from './context.js';
import { loadSigner, SIGNER_OPTIONS, signingDate } from './signing-key.js';

export const MANAGEMENT_EDIT_OPTIONS: OptionSpec[] = [
  { flags: '--repo-dir <dir>', description: 'repository directory holding the package (host packages: the host repository)' },
  { flags: '--add-depends <list>', description: 'comma-separated packages to add to depends' },
  { flags: '--remove-depends <list>', description: 'comma-separated packages to remove from depends' },
  { flags: '--add-conflicts <list>', description: 'comma-separated packages to add to conflicts' },
  { flags: '--remove-conflicts <list>', description: 'comma-separated packages to remove from conflicts' },
  { flags: '--trusted <dir>', description: 'trusted directory the current package must verify against (default: ours)' },
  { flags: '--dry-run', description: 'show the change of depends/conflicts and the new version; write nothing' },
  ...SIGNER_OPTIONS,
];

const list = (v: unknown): string[] =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : [];

export async function runManagementEdit(ctx: CommandContext, kind: 'host' | 'group' | 'unit', name: string, opts: CommandOptions): Promise<void> {
  const { editManagementPackage } = await import('../package/index.js');
  const { WaptError } = await import('../errors.js');
  if (!opts.repoDir) throw new WaptError('USAGE', `edit-${kind} needs --repo-dir DIR (the repository directory holding ${name})`);
  const trust = await trustStoreFor(ctx, opts.trusted);
  const signer = opts.dryRun ? null : await loadSigner(ctx, await signerPathsFrom(ctx, opts));
  const { date, reproducible } = await signingDate(ctx.env);
  const cfg = opts.dryRun ? null : await configOf(ctx).catch(() => null);
  const r = await editManagementPackage({
    kind,
    name,
    repoDir: resolve(ctx.cwd, opts.repoDir as string),
    trust,
    signer,
    date,
    reproducible,
    maintainer: ctx.env.USER ?? ctx.env.USERNAME ?? cfg?.hostUuid ?? '',
    addDepends: list(opts.addDepends),
    removeDepends: list(opts.removeDepends),
    addConflicts: list(opts.addConflicts),
    removeConflicts: list(opts.removeConflicts),
  });
  ctx.out.result({ ...r, dry_run: Boolean(opts.dryRun) }, () => [
    `${opts.dryRun ? 'would write' : r.created ? 'created' : 'updated'} ${kind} package ${r.package} ${r.from_version ? `${r.from_version} → ` : ''}${r.version}`,
    ...r.diff.flatMap((d) => [...d.added.map((a) => `  + ${d.field}: ${a}`), ...d.removed.map((a) => `  - ${d.field}: ${a}`)]),
    ...(r.path ? [`  ${r.path}`, kind === 'host' ? '' : `  run \`wapt-get scanpackages ${opts.repoDir as string}\` to index it`].filter((l) => l) : []),
  ]);
}
