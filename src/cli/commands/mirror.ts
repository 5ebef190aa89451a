// `wapt-get mirror URL DIR`: replicate a repository into a directory a branch-office web
// server serves (issue 12 §5). Verified like `update`, switched atomically, safe from cron.
import type { CommandSpec } from '../command.js';
import { agentConfig, DRY_RUN, LIMIT_RATE, LOCK_TIMEOUT, TRANSFER_LIMITS } from '../progress.js';
import type { MirrorReport } from '../../agent/index.js';

function render(r: MirrorReport): string[] {
  const idx =
    r.index_version === null ? 'unsigned index' : `index v${r.index_version} of ${r.repository}, signed ${r.index_created}, expires ${r.index_expires}`;
  const verb = r.dry_run ? 'would download' : 'downloaded';
  return [
    `${r.origin} → ${r.dir} (${idx})`,
    ...r.rejected_entries.map((e) => `  rejected ${e.package} ${e.version} (${e.filename}): [${e.code}] ${e.message}`),
    `${verb} ${r.downloaded.length} package(s) (${r.bytes} bytes), kept ${r.kept}, ${r.dry_run ? 'would remove' : 'removed'} ${r.removed.length}` +
      (r.dry_run ? ' (dry run: nothing changed)' : ''),
  ];
}

export const command: CommandSpec = {
  name: 'mirror',
  summary: "replicate a repository into a local directory (a branch-office mirror clients verify against the origin's signers)",
  args: ['<url>', '<dir>'],
  options: [
    { flags: '--repo <name>', description: 'the ini section describing the origin (pins, repository_id, TLS); default: the one whose repo_url is URL' },
    DRY_RUN,
    LOCK_TIMEOUT,
    LIMIT_RATE,
    ...TRANSFER_LIMITS,
  ],
  help: [
    "The origin's index statement and every package are verified as `update` and `install` verify",
    'them (same trusted directory, pins and rollback rule; the rollback mark is kept in',
    'DIR/.wapt-get-mirror.json). Only packages whose sha256 changed are fetched; an interrupted',
    'run resumes. New packages go in first, the Packages file (kept byte for byte) last, old',
    'packages are removed after it: clients see the old or the new repository, never a mix.',
    'A refused index or package leaves the previous mirror as it was. See docs/mirror.md.',
  ].join('\n'),
  async run(ctx, args, opts) {
    const [url, dir] = args as [string, string];
    const cfg = await agentConfig(ctx, opts);
    const { mirrorRepository } = await import('../../agent/index.js');
    const { resolve } = await import('node:path');
    const report = await mirrorRepository(cfg, {
      url,
      dir: resolve(ctx.cwd, dir),
      repo: opts.repo,
      dryRun: !!opts.dryRun,
      env: ctx.env,
      log: ctx.out,
    });
    ctx.out.result(report, () => render(report));
    return 0;
  },
};
