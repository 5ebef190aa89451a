// `wapt-get scanpackages DIR` (W-G3 `scan-packages`): index the *.wapt of a
// repository directory into `Packages` (W-F1, W-F2), optionally with our signed
// index statement (X2). Heavy modules are imported inside run().
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { WaptError } from '../../errors.js';
import type { TrustStore } from '../../crypto/index.js';
import type { ScanSigning } from '../../repo/index.js';
import type { CommandContext, CommandOptions, CommandSpec } from '../command.js';
import { configOf, signerPathsFrom, trustStoreFor } from '../context.js';
import { loadSigner, SIGNER_OPTIONS } from '../signing-key.js';

const CERT_FILE = /\.(crt|pem)$/i;

async function holdsCertificates(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.some((n) => CERT_FILE.test(n));
}

/**
 * `--trusted DIR` must hold certificates (an empty one would leave every package out);
 * without it the config's trusted dir is used when it holds any, else nothing is verified.
 */
async function trustFor(ctx: CommandContext, trusted: string | undefined): Promise<TrustStore | undefined> {
  if (trusted) {
    const store = await trustStoreFor(ctx, trusted);
    if (store.certificates.length === 0) {
      throw new WaptError('USAGE', `--trusted ${trusted}: no certificate found there; every package would be left out`, {
        detail: { path: resolve(ctx.cwd, trusted) },
      });
    }
    return store;
  }
  const dir = (await configOf(ctx)).trustedCertsDir;
  if (await holdsCertificates(dir)) {
    const store = await trustStoreFor(ctx, undefined);
    if (store.certificates.length > 0) return store;
  }
  ctx.out.warn(`control signatures are NOT verified: no trusted certificates in ${dir} (use --trusted DIR)`);
  return undefined;
}

/** --sign / --no-sign win; otherwise sign when --key/--cert are given or the config names both. */
async function wantsSigning(ctx: CommandContext, opts: CommandOptions): Promise<boolean> {
  if (opts.sign === true) return true;
  if (opts.sign === false) return false;
  if (opts.key || opts.cert) return true;
  const cfg = await configOf(ctx);
  return Boolean(cfg.privateKey && cfg.personalCertificatePath);
}

async function signingFor(ctx: CommandContext, opts: CommandOptions, expiresInMs: number, trust: TrustStore | undefined): Promise<ScanSigning> {
  const signer = await loadSigner(ctx, await signerPathsFrom(ctx, opts));
  const [cert, ...intermediates] = signer.certificates;
  if (trust) {
    // Not fatal: the publisher's trusted dir need not be the clients' one, but usually is.
    try {
      trust.verifyChain(cert!, intermediates);
    } catch (err) {
      ctx.out.warn(
        `the index signing certificate does not chain to the trusted directory (${(err as Error).message}); clients trusting it will refuse this index`,
      );
    }
  }
  return {
    key: signer.key,
    cert: cert!,
    expiresInMs,
    ...(opts.repository ? { repository: String(opts.repository) } : {}),
    resetVersion: Boolean(opts.resetVersion),
  };
}

/** X2 continuity: clients that saw a signed index refuse an unsigned one (INDEX_UNSIGNED). */
async function hadStatement(indexPath: string): Promise<boolean> {
  const { readPackagesStatement } = await import('../../repo/index.js');
  return (await readPackagesStatement(indexPath).catch(() => null)) !== null;
}

export const command: CommandSpec = {
  name: 'scanpackages',
  aliases: ['scan-packages'],
  summary: 'index the .wapt files of a repository directory into Packages, optionally with a signed index statement',
  args: ['<dir>'],
  options: [
    { flags: '--trusted <dir>', description: 'verify each control signature against these certificates (default: ssl/ beside wapt-get.ini when it holds any)' },
    { flags: '--strict', description: 'fail on the first package that cannot be indexed instead of skipping it' },
    { flags: '--sign', description: 'add the signed index statement (default when a key and certificate are given or configured)' },
    { flags: '--no-sign', description: 'do not sign the index statement, even with a configured key' },
    ...SIGNER_OPTIONS,
    { flags: '--expires <duration>', description: 'lifetime of the signed index statement (s, m, h, d, w)', default: '7d' },
    { flags: '--repository <name>', description: "the repository name the statement carries; clients refuse another (default: the directory's name)" },
    { flags: '--dry-run', description: 'read and check every package and say what would be indexed; write nothing (Packages, cache)' },
    { flags: '--reset-version', description: 'ignore the version of the statement already in Packages (when it does not verify: see docs/index-statement.md)' },
  ],
  help: [
    'Packages that cannot be indexed (unreadable, bad signature, host packages) are skipped with a warning.',
    'Unchanged files are reused from the scan cache (.wapt-get-scan-cache); serve the directory with dotfiles denied.',
    'Signing needs a code-signing key (a deployer key is refused, SIGNER_NOT_ALLOWED). The version continues from the',
    'statement already in Packages only if it verifies with an allowed key; otherwise the scan stops (SCAN_PREVIOUS_UNVERIFIED).',
    'Exit 0, or with --strict the exit code of the first failure (e.g. 3 for a bad signature).',
    '',
    'Example: wapt-get scanpackages /var/www/wapt --trusted /etc/wapt-get/ssl --key k.pem --cert k.crt --expires 14d',
  ].join('\n'),
  async run(ctx, [dirArg], opts) {
    const { parseDuration } = await import('../../repo/index.js');
    const { scanPackages, PACKAGES_FILE } = await import('../../repo/index.js');
    const dir = resolve(ctx.cwd, dirArg as string);
    const st = await stat(dir).catch((err) => {
      throw new WaptError('IO_ERROR', `cannot read repository directory ${dir}: ${(err as Error).message}`, { cause: err, detail: { path: dir } });
    });
    if (!st.isDirectory()) throw new WaptError('USAGE', `${dir} is not a directory`, { detail: { path: dir } });

    const expiresInMs = parseDuration(String(opts.expires ?? '7d'));
    const trust = await trustFor(ctx, opts.trusted);
    const sign = (await wantsSigning(ctx, opts)) ? await signingFor(ctx, opts, expiresInMs, trust) : undefined;
    const wasSigned = !sign && (await hadStatement(join(dir, PACKAGES_FILE)));

    const now = new Date();
    const dryRun = Boolean(opts.dryRun);
    const res = await scanPackages(dir, { trust, strict: Boolean(opts.strict), sign, now, dryRun, onWarning: (m) => ctx.out.warn(m) });
    if (wasSigned && (res.written || dryRun) && !sign) {
      ctx.out.warn(
        `${res.path} carried a signed index statement and now does not: clients that saw the signed one will refuse it (INDEX_UNSIGNED); use --sign`,
      );
    }
    const statement =
      res.statementVersion === null
        ? null
        : {
            version: res.statementVersion,
            expires: new Date(now.getTime() + expiresInMs).toISOString(),
          };
    const data = {
      dry_run: dryRun,
      path: res.path,
      indexed: res.indexed,
      skipped: res.skipped,
      reused_from_cache: res.reusedFromCache,
      hashed: res.hashed,
      signatures_checked: res.signaturesChecked,
      written: res.written,
      verified: trust !== undefined,
      statement,
    };
    ctx.out.result(data, () => [
      dryRun
        ? `would index ${res.indexed} package(s) into ${res.path} (dry run: nothing written)`
        : `indexed ${res.indexed} package(s) into ${res.path}${res.written ? '' : ' (unchanged, not rewritten)'}`,
      `skipped ${res.skipped.length}`,
      `reused from cache ${res.reusedFromCache}, hashed ${res.hashed}`,
      `control signatures checked ${res.signaturesChecked}`,
      statement
        ? `signed index statement version ${statement.version}, expires ${statement.expires}`
        : `index statement: not signed${wasSigned && !res.written ? ' (Packages was not rewritten: it keeps its earlier signed statement)' : ''}`,
    ]);
    return 0;
  },
};
