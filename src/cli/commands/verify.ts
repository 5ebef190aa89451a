import { resolve } from 'node:path';
import { asWaptError, EXIT } from '../../errors.js';
import type { VerifyCheck } from '../../package/index.js';
import type { CommandSpec } from '../command.js';
import { trustStoreFor } from '../context.js';

type VerifyRow = { file: string; ok: boolean; exit?: number; checks?: VerifyCheck[] } & Record<string, unknown>;

export const command: CommandSpec = {
  name: 'verify',
  aliases: ['verify-package'],
  summary: 'verify .wapt packages: manifest, signatures, signer chain, validity, revocation, code-signing rule',
  args: ['<packages...>'],
  options: [
    { flags: '--trusted <dir>', description: 'trusted certificates (and CRLs) directory (default: ssl/ beside wapt-get.ini)' },
    { flags: '--explain', description: 'print every check made, in order, with its verdict and the rule it enforces' },
  ],
  help: 'Exit 0 when every package verifies, 3 when any fails (its error code is printed). With --json --explain each result carries `checks`: [{check, rule, verdict, detail, code?}].',
  async run(ctx, [files], opts) {
    const { verifyPackage } = await import('../../package/index.js');
    const trust = await trustStoreFor(ctx, opts.trusted);
    const results: VerifyRow[] = [];
    let failed = 0;
    for (const f of files as string[]) {
      const checks: VerifyCheck[] | undefined = opts.explain ? [] : undefined;
      try {
        const v = await verifyPackage(resolve(ctx.cwd, f), { trust, explain: checks });
        results.push({
          file: f,
          ok: true,
          package: v.package,
          version: v.version,
          signer: v.signer,
          signer_fingerprint: v.signerFingerprint,
          code_signing: v.codeSigning,
          setup: v.setupKind,
          chain: v.chain,
          ...(checks ? { checks } : {}),
        });
      } catch (err) {
        const we = asWaptError(err);
        failed++;
        results.push({ file: f, ok: false, code: we.code, message: we.message, exit: we.exitCode, ...(checks ? { checks } : {}) });
      }
    }
    const c = ctx.out.c;
    const verdict = { pass: c.green('pass   '), fail: c.red('FAIL   '), 'not run': c.dim('not run') } as const;
    ctx.out.result({ results }, () =>
      results.flatMap((r) => [
        r.ok
          ? `${c.green('OK')}   ${r.file}: ${r.package} ${r.version}, signed by ${r.signer} (sha256 ${r.signer_fingerprint})`
          : `${c.red('FAIL')} ${r.file}: [${r.code}] ${r.message}`,
        ...(r.checks ?? []).map((k) => `  ${verdict[k.verdict]} ${k.check} (${k.rule}): ${k.code ? `[${k.code}] ` : ''}${k.detail}`),
      ]),
    );
    if (failed === 0) return EXIT.OK;
    return (results.find((r) => !r.ok && r.exit !== undefined)?.exit ?? EXIT.VERIFY) as number;
  },
};
