// `wapt-get download NAME…`: the chosen versions into the cache, each verified in full
// (index digest, then W-D3..W-D5); an interrupted download resumes from its `.part`.
import type { CommandSpec } from '../command.js';
import { agentConfig, LIMIT_RATE } from '../progress.js';

export const command: CommandSpec = {
  name: 'download',
  summary: 'download packages into the cache and verify them',
  args: ['<packages...>'],
  options: [
    { flags: '--with-deps', description: 'also download every dependency' },
    { flags: '-n, --dry-run', description: 'say what would be downloaded (and what is cached already); fetch nothing' },
    LIMIT_RATE,
  ],
  help: 'PACKAGES are requirements (name, name(>=1.2), name=1.2-3). A file that fails verification is deleted. max_parallel_downloads (default 4) are fetched at once; the rate cap is shared.',
  async run(ctx, [specs], opts) {
    const { AgentRuntime } = await import('../../agent/index.js');
    const { availableCandidates } = await import('../../agent/index.js');
    const { hostEnvironment } = await import('../../agent/index.js');
    const { resolve, chooseBest } = await import('../../agent/index.js');
    const { downloadCandidate } = await import('../../agent/index.js');
    const { field, parseRequirement } = await import('../../package/index.js');
    const names = specs as string[];
    const rt = await AgentRuntime.open(await agentConfig(ctx, opts), { lock: true, env: ctx.env, log: ctx.out });
    const downloads: Record<string, unknown>[] = [];
    try {
      const env = hostEnvironment(rt.config);
      const cands = availableCandidates(rt.db, rt.config.repos, (m) => ctx.out.warn(m));
      let chosen;
      if (opts.withDeps) {
        const plan = resolve({ kind: 'install', names, force: true }, cands, [], env);
        chosen = plan.order.filter((s) => s.action !== 'remove' && s.candidate).map((s) => s.candidate!);
      } else {
        chosen = names.map((spec) => {
          const req = parseRequirement(spec);
          // resolve() raises the detailed PACKAGE_NOT_FOUND / UNSATISFIABLE when nothing fits.
          return chooseBest(req.name, [req], cands, env) ?? resolve({ kind: 'install', names: [spec], force: true }, cands, [], env).install[0]!.candidate!;
        });
      }
      if (opts.dryRun) {
        const { cachePath } = await import('../../agent/index.js');
        const { existsSync } = await import('node:fs');
        const plan = chosen.map((c) => {
          const path = cachePath(rt, c.filename);
          return {
            package: field(c.control, 'package'),
            version: field(c.control, 'version'),
            repo: c.repo,
            filename: c.filename,
            path,
            status: existsSync(path) ? 'cached' : 'would-download',
            size: c.size ?? null,
          };
        });
        ctx.out.result({ downloads: plan, dry_run: true }, () => [
          ...plan.map((d) => `${d.status === 'cached' ? 'cached        ' : 'would download'} ${d.path} (${d.package} ${d.version} from ${d.repo})`),
          '(dry run: nothing was downloaded)',
        ]);
        return;
      }
      // Issue 12 §4: max_parallel_downloads at a time; reported in the order asked. A failed
      // transfer does not stop the others (its .part stays for the next run); the first error is raised after.
      const { runLimited } = await import('../../agent/index.js');
      const pool = runLimited(chosen, rt.config.maxParallelDownloads, (c) => downloadCandidate(rt, c, env.now));
      let firstError: unknown;
      for (const [i, c] of chosen.entries()) {
        const settled = await pool.result(i);
        if (!settled.ok) {
          firstError ??= settled.error;
          ctx.out.warn(`not downloaded: ${c.filename}: ${(settled.error as Error).message}`);
          continue;
        }
        const got = settled.value;
        ctx.out.info(`${got.status === 'cached' ? 'cached' : got.resumedFrom > 0 ? `resumed at ${got.resumedFrom}` : 'downloaded'}: ${c.filename}`);
        downloads.push({
          package: got.verified.package,
          version: got.verified.version,
          repo: c.repo,
          filename: c.filename,
          path: got.path,
          status: got.status,
          resumed_from: got.resumedFrom,
          size: got.size,
          signer: got.verified.signer,
        });
      }
      if (firstError !== undefined) throw firstError;
    } finally {
      await rt.close();
    }
    ctx.out.result({ downloads }, () =>
      downloads.map((d) => `${d.status === 'cached' ? 'cached    ' : 'downloaded'} ${d.path} (${d.package} ${d.version}, signed by ${d.signer})`),
    );
  },
};
