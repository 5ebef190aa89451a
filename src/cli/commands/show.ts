// `wapt-get show NAME[(req)]`: every version across repositories, which one would be
// chosen and why (W-B4 order, W-C4 eligibility), and what is installed.
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';
import { outputTail } from './history.js';

export const command: CommandSpec = {
  name: 'show',
  summary: 'show every available version of a package and which one would be installed',
  args: ['<package>'],
  help: 'PACKAGE may carry a requirement: show "tis-app(>=2)" tells which version satisfies it.',
  async run(ctx, [spec]) {
    const { AgentRuntime } = await import('../../agent/index.js');
    const { toCandidates, priorityFromRepos } = await import('../../agent/index.js');
    const { hostEnvironment } = await import('../../agent/index.js');
    const { explain, chooseBest } = await import('../../agent/index.js');
    const { parseRequirement, field } = await import('../../package/index.js');
    const req = parseRequirement(spec as string);
    const rt = await AgentRuntime.open(await configOf(ctx), { lock: false, env: ctx.env, log: ctx.out });
    let rows, installed;
    try {
      rows = rt.db.available.forPackage(req.name);
      installed = rt.db.installed.get(req.name) ?? null;
    } finally {
      await rt.close();
    }
    const env = hostEnvironment(rt.config);
    const cands = toCandidates(rows, priorityFromRepos(rt.config.repos), (m) => ctx.out.warn(m));
    if (cands.length === 0 && !installed) {
      throw new WaptError('PACKAGE_NOT_FOUND', `no package named ${req.name} in the repositories (run \`wapt-get update\`?)`, {
        detail: { package: req.name },
      });
    }
    const ex = explain(req.name, cands, env);
    const constrained = req.op !== null;
    const forReq = constrained ? chooseBest(req.name, [req], cands, env) : ex.chosen;
    const f = (c: (typeof cands)[number], k: string) => field(c.control, k);
    const versions = ex.candidates.map(({ candidate: c, eligible, reason }) => ({
      version: f(c, 'version'),
      repo: c.repo,
      filename: c.filename,
      architecture: f(c, 'architecture'),
      maturity: f(c, 'maturity'),
      locale: f(c, 'locale'),
      target_os: f(c, 'target_os'),
      depends: f(c, 'depends'),
      conflicts: f(c, 'conflicts'),
      signer: f(c, 'signer'),
      signature_date: f(c, 'signature_date'),
      description: f(c, 'description'),
      size: c.size ?? null,
      eligible,
      ...(reason ? { reason } : {}),
      chosen: c === forReq,
    }));
    const chosen = forReq ? { version: f(forReq, 'version'), repo: forReq.repo } : null;
    const why = constrained
      ? forReq
        ? `${req.raw}: ${req.name} ${f(forReq, 'version')} (${forReq.repo}) is the highest eligible version satisfying it`
        : `no eligible version satisfies ${req.raw}; ${ex.why}`
      : ex.why;
    const inst = installed && {
      version: installed.version,
      install_status: installed.install_status,
      error_code: installed.error_code,
      pending_action: installed.pending_action,
      held: installed.held,
      install_date: installed.install_date,
    };
    // the hook's own words: what a failed install's hint sends people here for
    const output_tail = installed ? outputTail(installed.install_output) : [];
    ctx.out.result({ package: req.name, requirement: req.raw, installed: inst, output_tail, chosen, why, versions }, () => {
      const state = inst
        ? `${inst.version} (${inst.install_status}${inst.error_code ? ` [${inst.error_code}]` : ''}${inst.pending_action === 'remove' ? ', pending removal: `wapt-get remove` or `upgrade` runs it again' : ''}${inst.held ? ', held' : ''})`
        : 'no';
      const lines = [`${req.name}`, `  installed: ${state}`];
      const first = ex.candidates[0]?.candidate;
      if (first && f(first, 'description')) lines.push(`  description: ${f(first, 'description').split('\n').join('\n    ')}`);
      lines.push('  versions (best first):');
      for (const v of versions) {
        const mark = v.chosen ? ctx.out.c.green('*') : ' ';
        const extra = [v.architecture, v.maturity || 'PROD', v.locale].filter(Boolean).join(', ');
        lines.push(`  ${mark} ${v.version.padEnd(16)} ${v.repo.padEnd(10)} ${extra}${v.eligible ? '' : `  not eligible: ${v.reason}`}`);
      }
      lines.push(`  chosen: ${chosen ? `${chosen.version} from ${chosen.repo}` : 'none'}`, `  why: ${why}`);
      if (output_tail.length) lines.push(`  last hook output (\`wapt-get history ${req.name}\` for the log):`, ...output_tail.map((l) => `    | ${l}`));
      return lines;
    });
  },
};
