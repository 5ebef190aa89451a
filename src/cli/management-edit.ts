// What edit-host and edit-group share: their options, and one run over the package room's
// editManagementPackage (W-D5: control-only packages, signed by a deployer key).
import { resolve } from 'node:path';
import type { EditManagementResult } from '../package/index.js';
import type { CommandContext, CommandOptions, OptionSpec } from './command.js';
import { configOf, signerPathsFrom, trustStoreFor } from './context.js';
import { loadSigner, SIGNER_OPTIONS, signingDate } from './signing-key.js';
import { adminHttp, adminToken, putPackage, UPLOAD_OPTIONS } from './upload.js';

export const MANAGEMENT_EDIT_OPTIONS: OptionSpec[] = [
  { flags: '--repo-dir <dir>', description: 'repository directory holding the package (host packages: the host repository)' },
  { flags: '--server <url>', description: 'edit-host only: fetch and put the host package through `wapt-get serve` (admin role) instead of a directory' },
  ...UPLOAD_OPTIONS,
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
  const { WaptError } = await import('../errors.js');
  if (opts.server && opts.repoDir) throw new WaptError('USAGE', `edit-${kind}: give --repo-dir DIR or --server URL, not both`);
  if (opts.server && kind !== 'host')
    throw new WaptError('USAGE', `edit-${kind} --server is not supported: serve takes host packages only; use --repo-dir, then upload-package`);
  if (!opts.repoDir && !opts.server)
    throw new WaptError('USAGE', `edit-${kind} needs --repo-dir DIR (the repository directory holding ${name}) or, for a host, --server URL`);
  if (opts.server) return withServerCopy(ctx, name, opts, (repoDir) => editIn(ctx, kind, name, repoDir, opts));
  const r = await editIn(ctx, kind, name, resolve(ctx.cwd, opts.repoDir as string), opts);
  show(ctx, kind, r, opts, []);
}

type EditResult = EditManagementResult;

async function editIn(ctx: CommandContext, kind: 'host' | 'group' | 'unit', name: string, repoDir: string, opts: CommandOptions): Promise<EditResult> {
  const { editManagementPackage } = await import('../package/index.js');
  const trust = await trustStoreFor(ctx, opts.trusted);
  const signer = opts.dryRun ? null : await loadSigner(ctx, await signerPathsFrom(ctx, opts));
  const { date, reproducible } = await signingDate(ctx.env);
  const cfg = opts.dryRun ? null : await configOf(ctx).catch(() => null);
  return editManagementPackage({
    kind,
    name,
    repoDir,
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
}

function show(ctx: CommandContext, kind: string, r: EditResult, opts: CommandOptions, extra: string[], more: Record<string, unknown> = {}): void {
  ctx.out.result({ ...r, ...more, dry_run: Boolean(opts.dryRun) }, () => [
    `${opts.dryRun ? 'would write' : r.created ? 'created' : 'updated'} ${kind} package ${r.package} ${r.from_version ? `${r.from_version} → ` : ''}${r.version}`,
    ...r.diff.flatMap((d) => [...d.added.map((a) => `  + ${d.field}: ${a}`), ...d.removed.map((a) => `  - ${d.field}: ${a}`)]),
    ...(r.path && !opts.server
      ? [`  ${r.path}`, kind === 'host' ? '' : `  run \`wapt-get scanpackages ${opts.repoDir as string}\` to index it`].filter((l) => l)
      : []),
    ...extra,
  ]);
}

/**
 * edit-host --server: the host package as serve holds it (GET /wapt-host/<uuid>.wapt with the
 * admin token; 404: none yet) is copied into a private directory, edited there by the same
 * code as --repo-dir, and PUT back (serve checks it as the agent will, host-package-upload.ts).
 */
async function withServerCopy(ctx: CommandContext, name: string, opts: CommandOptions, edit: (dir: string) => Promise<EditResult>): Promise<void> {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { HttpClient } = await import('../repo/index.js');
  const { isWaptError } = await import('../errors.js');
  const base = (opts.server as string).replace(/\/+$/, '');
  const dir = await mkdtemp(join(tmpdir(), 'wapt-get-edit-host-')); // 0700
  const client = new HttpClient(await adminHttp(ctx, base, opts));
  try {
    // Basic with the token as password: request.ts sends URL credentials to this origin only
    const url = new URL(`${base}/wapt-host/${encodeURIComponent(name)}.wapt`);
    url.username = 'admin';
    url.password = encodeURIComponent(await adminToken(ctx, opts));
    await client.fetchToFile(url.href, join(dir, `${name}.wapt`)).catch((err: unknown) => {
      if (!(isWaptError(err, 'HTTP_STATUS') && err.detail.status === 404)) throw err;
    });
    const r = await edit(dir);
    if (opts.dryRun || !r.path) return show(ctx, 'host', r, opts, [], { server: base });
    const answer = await putPackage(ctx, base, `/api/v1/host-packages/${encodeURIComponent(name)}.wapt`, r.path, opts);
    show(ctx, 'host', { ...r, path: `${base}/wapt-host/${name}.wapt` }, opts, [`  put on ${base} (${String(answer.status ?? 'published')})`], {
      server: base,
      server_status: answer.status ?? null,
    });
  } finally {
    await client.close();
    await rm(dir, { recursive: true, force: true });
  }
}
