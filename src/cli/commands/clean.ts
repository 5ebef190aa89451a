// `wapt-get clean` (W-G3): deletes cached package files that neither the installed set
// nor the pending upgrade plan needs.
import type { CommandSpec } from '../command.js';
import { agentConfig, DRY_RUN, LOCK_TIMEOUT, verbIo } from '../progress.js';

export const command: CommandSpec = {
  name: 'clean',
  summary: 'delete cached packages not needed by installed packages or the pending upgrade',
  options: [DRY_RUN, LOCK_TIMEOUT],
  async run(ctx, _args, opts) {
    const config = await agentConfig(ctx, opts);
    const { cleanVerb } = await import('../../agent/index.js');
    const r = await cleanVerb(config, verbIo(ctx), { dryRun: opts.dryRun });
    const why = new Map(r.deadParts.map((d) => [d.file, d.reason]));
    ctx.out.result({ dry_run: r.dryRun, removed: r.removed, kept: r.kept, dead_parts: r.deadParts }, () => [
      ...r.removed.map((f) => `${r.dryRun ? 'would remove' : 'removed'} ${f}${why.has(f) ? ` (download that cannot complete: ${why.get(f)})` : ''}`),
      `${r.removed.length} file(s) ${r.dryRun ? 'would be ' : ''}removed, ${r.kept.length} kept in ${config.cacheDir}`,
    ]);
  },
};
