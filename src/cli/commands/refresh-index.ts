// `wapt-get refresh-index DIR --key … --cert …` (X2 freshness, issue 11 §5): renews
// the version and expiry of the signed statement already in DIR/Packages with a
// freshness-only key, without touching a Packages entry, so the content key stays
// offline. Clients accept it only from a certificate they pin as
// index_freshness_signer (docs/index-statement.md, with a daily timer example).
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { signerPathsFrom, trustStoreFor } from '../context.js';
import { loadSigner, SIGNER_OPTIONS } from '../signing-key.js';

export const command: CommandSpec = {
  name: 'refresh-index',
  summary: "renew the version and expiry of a repository's signed index with a freshness-only key (Packages entries unchanged)",
  args: ['<dir>'],
  options: [
    ...SIGNER_OPTIONS,
    { flags: '--expires <duration>', description: 'lifetime of the renewed index (s, m, h, d, w)', default: '2d' },
    { flags: '--trusted <dir>', description: "also require the statement's signer to chain to these certificates" },
  ],
  help: [
    'The key must be a freshness-only certificate (no code signing); a code-signing key is refused (SIGNER_NOT_ALLOWED).',
    'The statement already in Packages must verify over the unchanged Packages bytes (else SIGNATURE_INVALID /',
    'INDEX_DIGEST_MISMATCH): a freshness key can keep an index alive but never change what it lists.',
    '',
    'Example (daily timer): wapt-get refresh-index /var/www/wapt --key /etc/wapt-get/fresh.pem --cert /etc/wapt-get/fresh.crt --expires 2d',
  ].join('\n'),
  async run(ctx, [dirArg], opts) {
    const { parseDuration, refreshIndex } = await import('../../repo/index.js');
    const dir = resolve(ctx.cwd, dirArg as string);
    const st = await stat(dir).catch((err) => {
      throw new WaptError('IO_ERROR', `cannot read repository directory ${dir}: ${(err as Error).message}`, { cause: err, detail: { path: dir } });
    });
    if (!st.isDirectory()) throw new WaptError('USAGE', `${dir} is not a directory`, { detail: { path: dir } });
    const expiresInMs = parseDuration(String(opts.expires ?? '2d'));
    const signer = await loadSigner(ctx, await signerPathsFrom(ctx, opts));
    const trust = opts.trusted ? await trustStoreFor(ctx, String(opts.trusted)) : undefined;
    const res = await refreshIndex(dir, { key: signer.key, cert: signer.certificates[0]!, expiresInMs, trust });
    const data = {
      path: res.path,
      repository: res.repository,
      version: res.version,
      statement_version: res.statementVersion,
      expires: res.expires,
      packages_sha256: res.packagesSha256,
    };
    ctx.out.result(data, () => [`renewed ${res.path} (repository ${res.repository}): version ${res.version}, expires ${res.expires}; Packages unchanged`]);
    return 0;
  },
};
