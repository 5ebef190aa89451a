// Uploading a verified package to `wapt-get serve` (upload-package --to https://…):
// PUT /api/v1/packages/<filename> with an admin token; the server verifies it again,
// refuses a colliding name_version, stores it and re-signs its index statement.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { WaptError, ERROR_TABLE, type ErrorCode } from '../errors.js';
import type { CommandContext, CommandOptions, OptionSpec } from './command.js';
import { configOf } from './context.js';

export const UPLOAD_OPTIONS: OptionSpec[] = [
  { flags: '--token-file <file>', description: 'file holding the admin token for a server upload (else $WAPT_ADMIN_TOKEN)' },
  { flags: '--verify-cert <value>', description: 'TLS check of the server: 1 (system CAs), 0, a CA bundle or a pinned certificate (default: verify_cert)' },
];

async function adminToken(ctx: CommandContext, opts: CommandOptions): Promise<string> {
  if (opts.tokenFile) return (await readFile(resolve(ctx.cwd, opts.tokenFile as string), 'utf8')).trim();
  const t = ctx.env.WAPT_ADMIN_TOKEN;
  if (!t) throw new WaptError('USAGE', 'uploading to a server needs an admin token: --token-file FILE or $WAPT_ADMIN_TOKEN');
  return t.trim();
}

export async function uploadToServer(ctx: CommandContext, server: string, file: string, opts: CommandOptions): Promise<Record<string, unknown>> {
  const { httpOptionsForRepo } = await import('../agent/index.js');
  const { sendForJson } = await import('../repo/index.js');
  const cfg = await configOf(ctx);
  const token = await adminToken(ctx, opts);
  const base = server.replace(/\/+$/, '');
  const verifyCert =
    opts.verifyCert === undefined
      ? cfg.verifyCert
      : /^(0|1)$/.test(opts.verifyCert as string)
        ? opts.verifyCert === '1'
        : resolve(ctx.cwd, opts.verifyCert as string);
  const http = httpOptionsForRepo(
    cfg,
    {
      url: base,
      verifyCert,
      clientCertificate: cfg.clientCertificate,
      clientPrivateKey: cfg.clientPrivateKey,
      httpProxy: null,
      timeoutMs: cfg.timeoutMs,
      allowInsecureHttp: false,
    },
    ctx.env,
    ctx.out,
  );
  const name = basename(file);
  const size = (await stat(file)).size;
  if (opts.dryRun) return { package: name, path: `${base}/${name}`, status: 'published' };
  const res = await sendForJson(
    'PUT',
    `${base}/api/v1/packages/${encodeURIComponent(name)}${opts.force ? '?force=1' : ''}`,
    createReadStream(file),
    { authorization: `Bearer ${token}`, 'content-type': 'application/zip', 'content-length': String(size) },
    http,
  );
  // serve answers errors as {code, message} (server/registry/http.ts).
  const body = (res.body ?? {}) as { code?: string; message?: string; status?: string; path?: string };
  if (res.status >= 200 && res.status < 300) return { package: name, ...body, path: `${base}/${name}`, status: body.status ?? 'published' };
  const code = body.code;
  // The server's code when it is one of ours (PACKAGE_EXISTS, SIGNATURE_INVALID…); else SERVER_REFUSED with its code.
  const ours = code && code in ERROR_TABLE ? (code as ErrorCode) : 'SERVER_REFUSED';
  throw new WaptError(ours, `${base} refused ${name}: HTTP ${res.status}${code ? ` ${code}` : ''}${body.message ? `: ${body.message}` : ''}`, {
    detail: { status: res.status, server_code: code ?? null },
  });
}
