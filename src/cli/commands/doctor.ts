// `wapt-get doctor`: one line per check, exit 1 on any problem, so a monitoring check
// or a new admin sees at once what is wrong with this host's setup.
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';
import type { Check } from '../doctor-checks.js';

export const command: CommandSpec = {
  name: 'doctor',
  summary: 'check this host: config, trusted certificates, each repository (TLS, clock), stored indexes, DB and lock',
  help: 'Exit codes: 0 every check passed, 1 a check warned or failed. Read-only: it changes nothing.',
  async run(ctx) {
    const { configCheck, repoCheck, stateChecks, trustCheck } = await import('../doctor-checks.js');
    const { asWaptError } = await import('../../errors.js');
    const checks: Check[] = [];
    let cfg;
    try {
      cfg = await configOf(ctx);
    } catch (err) {
      const we = asWaptError(err);
      checks.push({ check: 'config', status: 'fail', message: `[${we.code}] ${we.message}`, detail: { code: we.code } });
    }
    if (cfg) {
      checks.push(...configCheck(cfg), await trustCheck(cfg));
      for (const r of [...cfg.repos, ...(cfg.hostRepo ? [cfg.hostRepo] : [])]) checks.push(...(await repoCheck(cfg, r, ctx.env)));
      checks.push(...(await stateChecks(cfg)));
    }
    const problems = checks.filter((c) => c.status !== 'ok').length;
    const mark = { ok: ctx.out.c.green('ok  '), warn: ctx.out.c.yellow('WARN'), fail: ctx.out.c.red('FAIL') };
    ctx.out.result({ ok: problems === 0, problems, checks }, () => [
      ...checks.map((c) => `${mark[c.status]} ${c.check.padEnd(16)} ${c.message}`),
      problems === 0 ? 'no problem found' : `${problems} problem${problems === 1 ? '' : 's'} found`,
    ]);
    return problems === 0 ? 0 : 1;
  },
};
