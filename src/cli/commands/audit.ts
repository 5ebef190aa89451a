// `wapt-get audit [NAME…]` (W-G2): runs audit hooks and stores OK/WARNING/ERROR/UNKNOWN
// in last_audit_status/on/output.
import type { CommandSpec } from '../command.js';
import { reportAfter } from './update-status.js';
import { agentConfig, DRY_RUN, LOCK_TIMEOUT, verbIo } from '../progress.js';

export const command: CommandSpec = {
  name: 'audit',
  summary: 'run the audit hook of installed packages and record the result',
  args: ['[packages...]'],
  options: [DRY_RUN, LOCK_TIMEOUT],
  help: 'Exit 0 when no package audits ERROR, 1 otherwise. Needs no special rights.',
  async run(ctx, [names], opts) {
    const config = await agentConfig(ctx, opts);
    const { auditVerb } = await import('../../agent/index.js');
    const r = await auditVerb(config, verbIo(ctx), (names as string[] | undefined) ?? [], { dryRun: opts.dryRun });
    ctx.out.result({ dry_run: Boolean(opts.dryRun), results: r.results }, () => r.results.map((x) => `${x.package} ${x.version}: ${x.status}`));
    await reportAfter(ctx, 'audit', r.results, opts.dryRun);
    return r.exitCode;
  },
};
