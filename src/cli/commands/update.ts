// `wapt-get update`: refresh every repository index (W-F3, X2) and the host package
// (W-F4), or import an offline bundle. Prints per-repository counts and totals.
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { reportAfter } from './update-status.js';
import { agentConfig, LIMIT_RATE, LOCK_TIMEOUT, TRANSFER_LIMITS } from '../progress.js';
import type { Output } from '../output.js';
import type { UpdateSummary, RepoUpdateResult, WaptConfig } from '../../agent/index.js';

function repoLine(out: Output, r: RepoUpdateResult): string[] {
  const head = `${r.repo.padEnd(12)} ${r.url}`;
  if (r.status === 'failed') return [`${head}\n  ${out.c.red('FAILED')} [${r.error!.code}] ${r.error!.message} (previous index kept: ${r.packages} packages)`];
  const state = r.status === 'not-modified' ? 'not modified' : 'updated';
  const age = r.index_created ? `, signed ${Math.round((Date.now() - Date.parse(r.index_created)) / 1000)} s ago` : '';
  const sig = r.signed ? `signed index v${r.index_version}${age}, expires ${r.index_expires}` : 'unsigned index';
  const lines = [`${head}\n  ${state}: ${r.packages} packages, ${r.rejected} rejected (${sig})`];
  for (const t of r.tried ?? []) lines.push(`  ${out.c.yellow('skipped')} ${t.url}: [${t.code}] ${t.message}`);
  for (const e of r.rejected_entries) lines.push(`  ${out.c.yellow('rejected')} ${e.package} ${e.version} (${e.filename}): [${e.code}] ${e.message}`);
  return lines;
}

/** `update --dry-run`: the repositories that would be fetched, with what the DB holds for each. */
async function dryRunUpdate(out: Output, cfg: WaptConfig, only: string[] | undefined): Promise<void> {
  const { indexHealth, openDb } = await import('../../agent/index.js');
  const { existsSync } = await import('node:fs');
  const repos = cfg.repos.filter((r) => !only || only.includes(r.name));
  const health = existsSync(cfg.dbPath) ? indexHealth(await openDb(cfg.dbPath, {}), { ...cfg, repos }) : [];
  const plan = repos.map((r) => ({ repo: r.name, url: `${r.url}/Packages`, stored: health.find((h) => h.repo === r.name)?.message ?? 'never fetched' }));
  out.result({ dry_run: true, repositories: plan }, () => [
    ...plan.map((p) => `would fetch ${p.url} (now: ${p.stored})`),
    '(dry run: nothing was fetched or written)',
  ]);
}

export function renderSummary(out: Output, s: UpdateSummary): string[] {
  return [
    ...s.repos.flatMap((r) => repoLine(out, r)),
    `${s.packages} packages available, ${s.upgradable} upgradable, ${s.rejected} rejected` + (s.failed ? `, ${s.failed} repositories FAILED` : ''),
  ];
}

export const command: CommandSpec = {
  name: 'update',
  summary: 'refresh the package indexes of every repository (or import an offline bundle)',
  options: [
    { flags: '--repo <names...>', description: 'only these repositories (ini section names; wapt-host for the host package)' },
    { flags: '--from-bundle <tar>', description: 'import an offline bundle made by `wapt-get bundle` instead of using the network' },
    { flags: '--as <name>', description: 'repository name for the imported bundle (default: bundle)' },
    { flags: '-n, --dry-run', description: 'say which repositories would be fetched and what is stored now; no network, nothing written' },
    LOCK_TIMEOUT,
    LIMIT_RATE,
    ...TRANSFER_LIMITS,
  ],
  help: [
    'Each index is verified before it replaces the stored one: its signed statement (no',
    "rollback, not expired, Packages digest) and every entry's control signature; entries",
    'that fail are left out and counted. A repository that fails keeps its previous index.',
    'Exit 0 when every repository updated, else the exit code of the first failure.',
  ].join('\n'),
  async run(ctx, _args, opts) {
    const cfg = await agentConfig(ctx, opts);
    if (opts.dryRun) return dryRunUpdate(ctx.out, cfg, opts.repo as string[] | undefined);
    const { AgentRuntime } = await import('../../agent/index.js');
    const { runUpdate, summarize, tryFast304, planFast304 } = await import('../../agent/index.js');
    const whole = !opts.fromBundle && !opts.repo;
    // issue 12 §2: every server still answers 304 and nothing here moved: the last summary stands
    const fast = whole ? await tryFast304(cfg, ctx.env, ctx.out) : null;
    if (fast) {
      await reportAfter(
        ctx,
        'update',
        fast.repos.map((r) => ({ package: r.repo, status: 'OK' })),
      );
      ctx.out.result({ ...fast, fast_304: true }, () => renderSummary(ctx.out, fast));
      return 0;
    }
    const rt = await AgentRuntime.open(cfg, { lock: true, recreateCorruptDb: true, env: ctx.env, log: ctx.out });
    let summary: UpdateSummary;
    // a corrupt DB was moved aside and its installed packages rebuilt from their side records
    const recovery = rt.db.recovery;
    try {
      if (opts.fromBundle) {
        const { importBundle } = await import('../../agent/index.js');
        const { resolve } = await import('node:path');
        const res = await importBundle(rt, resolve(ctx.cwd, opts.fromBundle), { name: opts.as });
        summary = summarize(rt, [res]);
      } else {
        summary = await runUpdate(rt, { only: opts.repo });
      }
    } finally {
      // a whole update that worked (and no recovery) may be answered from the side file next time
      const after = whole ? planFast304(cfg, rt.db, recovery ? null : (summary! ?? null), ctx.env, ctx.out) : undefined;
      await rt.close(after);
    }
    if (recovery) {
      // the index is back, but history and rollback marks are not: say so, never exit 0
      const err = new WaptError(
        'DB_CORRUPT',
        `local DB was corrupt (${recovery.reason}), moved to ${recovery.movedTo}; ${recovery.rebuilt.length} installed package(s) rebuilt, index fetched again` +
          (recovery.lost.length ? `; NOT recovered: ${recovery.lost.join('; ')}` : ''),
        { detail: { ...recovery } },
      );
      if (ctx.out.json) {
        ctx.out.result({ ...summary, error: { code: err.code, message: err.message, detail: err.detail } }, () => []);
        return err.exitCode;
      }
      ctx.out.result(summary, () => renderSummary(ctx.out, summary));
      throw err;
    }
    await reportAfter(
      ctx,
      'update',
      summary.repos.map((r) => ({ package: r.repo, status: r.status === 'failed' ? 'ERROR' : 'OK', error_code: r.error?.code })),
    );
    const failed = summary.repos.find((r) => r.status === 'failed');
    if (!failed) {
      ctx.out.result(summary, () => renderSummary(ctx.out, summary));
      return 0;
    }
    const err = new WaptError(failed.error!.code as WaptError['code'], `repository ${failed.repo}: ${failed.error!.message}`, {
      detail: { ...failed.error!.detail, repo: failed.repo },
    });
    if (ctx.out.json) {
      // One JSON document: the summary plus the error in the shape the CLI uses for failures.
      ctx.out.result({ ...summary, error: { code: err.code, message: err.message, detail: err.detail } }, () => []);
      return err.exitCode;
    }
    ctx.out.result(summary, () => renderSummary(ctx.out, summary));
    throw err;
  },
};
