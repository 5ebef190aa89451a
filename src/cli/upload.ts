// Uploading a verified package to `wapt-get serve` (upload-package --to https://…):
// PUT /api/v1/packages/<filename> with an admin token; the server verifies it again,
// refuses a colliding name_version, stores it and re-signs its index statement.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { WaptError, ERROR_TABLE, type ErrorCode } from '../errors.js';
import type { HttpOptions } from '../repo/index.js';
import type { CommandContext, CommandOptions, OptionSpec } from './command.js';
import { configOf } from './context.js';

export const UPLOAD_OPTIONS: OptionSpec[] = [
  { flags: '--token-file <file>', description: 'file holding the admin token for a server upload (else $WAPT_ADMIN_TOKEN)' },
  { flags: '--verify-cert <value>', description: 'TLS check of the server: 1 (system CAs), 0, a CA bundle or a pinned certificate (default: verify_cert)' },
];

export async function adminToken(ctx: CommandContext, opts: CommandOptions): Promise<string> {
  if (opts.tokenFile) return (await readFile(resolve(ctx.cwd, opts.tokenFile as string), 'utf8')).trim();
  const t = ctx.env.WAPT_ADMIN_TOKEN;
  if (!t) throw new WaptError('USAGE', 'uploading to a server needs an admin token: --token-file FILE or $WAPT_ADMIN_TOKEN');
  return t.trim();
}

/** TLS and proxy settings for talking to `serve` as an admin (verify_cert, or --verify-cert). */
export async function adminHttp(ctx: CommandContext, base: string, opts: CommandOptions): Promise<HttpOptions> {
  const { httpOptionsForRepo } = await import('../agent/index.js');
  const cfg = await configOf(ctx);
  const verifyCert =
    opts.verifyCert === undefined
      ? cfg.verifyCert
      : /^(0|1)$/.test(opts.verifyCert as string)
        ? opts.verifyCert === '1'
        : resolve(ctx.cwd, opts.verifyCert as string);
  return httpOptionsForRepo(
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
}

/** PUTs one package file to an admin path of `serve`; its refusal becomes our error code when it is one of ours. */
export async function putPackage(ctx: CommandContext, base: string, apiPath: string, file: string, opts: CommandOptions): Promise<Record<string, unknown>> {
  const { sendForJson } = await import('../repo/index.js');
  const token = await adminToken(ctx, opts);
  const http = await adminHttp(ctx, base, opts);
  const name = basename(file);
  const size = (await stat(file)).size;
  const res = await sendForJson(
    'PUT',
    `${base}${apiPath}`,
    createReadStream(file),
    { authorization: `Bearer ${token}`, 'content-type': 'application/zip', 'content-length': String(size) },
    http,
  );
  // serve answers errors as {code, message} (server/registry/http.ts).
  const body = (res.body ?? {}) as { code?: string; message?: string; status?: string; path?: string };
  if (res.status >= 200 && res.status < 300) return { package: name, ...body };
  const code = body.code;
  // The server's code when it is one of ours (PACKAGE_EXISTS, SIGNATURE_INVALID…); else SERVER_REFUSED with its code.
  const ours = code && code in ERROR_TABLE ? (code as ErrorCode) : 'SERVER_REFUSED';
  throw new WaptError(ours, `${base} refused ${name}: HTTP ${res.status}${code ? ` ${code}` : ''}${body.message ? `: ${body.message}` : ''}`, {
    detail: { status: res.status, server_code: code ?? null },
  });
}

export async function uploadToServer(ctx: CommandContext, server: string, file: string, opts: CommandOptions): Promise<Record<string, unknown>> {
  const base = server.replace(/\/+$/, '');
  const name = basename(file);
  if (opts.dryRun) return { package: name, path: `${base}/${name}`, status: 'published' };
  const r = await putPackage(ctx, base, `/api/v1/packages/${encodeURIComponent(name)}${opts.force ? '?force=1' : ''}`, file, opts);
  return { ...r, path: `${base}/${name}`, status: r.status ?? 'published' };
}
