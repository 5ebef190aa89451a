// Shared by get-server-certificate and enable-check-certificate: which server is meant,
// and where its certificate is kept (ssl/server/ beside wapt-get.ini, as WAPT does; the
// trusted directory itself is not recursive, so a server certificate never signs packages).
import { join, dirname } from 'node:path';
import { WaptError } from '../errors.js';
import type { CommandContext } from './command.js';
import { configOf } from './context.js';

export async function serverUrlFor(ctx: CommandContext, given: string | undefined): Promise<string> {
  if (given) return given;
  const cfg = await configOf(ctx);
  const url = cfg.waptServer ?? cfg.repos[0]?.url;
  if (!url) throw new WaptError('USAGE', 'no server given and neither wapt_server nor repo_url is set in wapt-get.ini: give the URL');
  return url;
}

export async function serverCertPath(ctx: CommandContext, host: string, port: number): Promise<string> {
  const cfg = await configOf(ctx);
  const safe = host.replace(/[^A-Za-z0-9.-]/g, '_');
  return join(dirname(cfg.configPath), 'ssl', 'server', `${safe}${port === 443 ? '' : `_${port}`}.crt`);
}
