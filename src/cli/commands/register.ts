// `wapt-get register [description]` (W-G3): sends this host's certificate and a SIGNED
// inventory to `<wapt_server>/api/v1/register` (`wapt-get serve --data-dir`). The host
// key is made on first use under <dbdir>/host-identity/ (unencrypted, mode 0600: an
// unattended agent has nobody to type a password). Also exports the report flow that
// `update-status` shares.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { WaptError } from '../../errors.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { configOf } from '../context.js';

export const REGISTRATION_TOKEN_ENV = 'WAPT_GET_REGISTRATION_TOKEN';

export interface ReportOutcome {
  server: string;
  host_uuid: string;
  fingerprint: string;
  sequence: number;
  /** The server's JSON answer. */
  answer: Record<string, unknown>;
  packages: number;
  counts: Record<string, number>;
  key_created: boolean;
  key_path: string;
}

/** Terminal-safe and short: the server's message is shown to the user. */
function shown(v: unknown): string {
  return typeof v === 'string' ? v.replace(/[^\x20-\x7e]/g, '?').slice(0, 300) : '';
}

/** Signs a report with the host key and POSTs it; HTTP_STATUS (with the server's code) when refused. */
export async function sendReport(
  ctx: CommandContext,
  type: 'inventory' | 'status',
  extra: { token?: string; description?: string; dryRun?: boolean } = {},
): Promise<ReportOutcome & { dry_run: boolean }> {
  const cfg = await configOf(ctx);
  const { server, hostUuid } = (await import('../../agent/index.js')).serverAndHost(cfg);
  const [{ AgentRuntime }, identityMod, inv, claims, { postJson }, { VERSION_STRING }, { certificateToPem }] = await Promise.all([
    import('../../agent/index.js'),
    import('../../agent/index.js'),
    import('../../agent/index.js'),
    import('../../agent/index.js'),
    import('../../repo/index.js'),
    import('../../version.js'),
    import('../../crypto/index.js'),
  ]);
  const rt = await AgentRuntime.open(cfg, { lock: false, env: ctx.env, log: ctx.out });
  try {
    if (extra.dryRun) {
      // what would be sent, without making the host key, taking a sequence number or sending
      const packages = inv.packageReports(rt.db.installed.list());
      return {
        server,
        host_uuid: hostUuid,
        fingerprint: '',
        sequence: 0,
        answer: {},
        packages: packages.length,
        counts: inv.statusCounts(packages),
        key_created: false,
        key_path: '',
        dry_run: true,
      };
    }
    const identity = await identityMod.loadOrCreateHostIdentity(cfg.dbdir, { hostUuid, onWarning: (m) => ctx.out.warn(m) });
    if (identity.created) ctx.out.info(`created the host key ${identity.keyPath} (unencrypted, mode 0600) and its self-signed certificate`);
    const rows = rt.db.installed.list();
    const facts = inv.systemFacts();
    const data: Record<string, unknown> =
      type === 'inventory'
        ? { ...inv.buildInventory(hostUuid, facts, VERSION_STRING, rows), ...(extra.description ? { description: extra.description } : {}) }
        : { ...inv.buildStatusReport(hostUuid, facts.hostname, VERSION_STRING, rows) };
    const sequence = await identityMod.nextSequence(identity.dir);
    const claim = claims.signReport(type, hostUuid, sequence, data, { key: identity.key, chain: [identity.certificate] });
    const url = `${server}/api/v1/${type === 'inventory' ? 'register' : 'status'}`;
    const payload =
      type === 'inventory'
        ? { host_uuid: hostUuid, certificate: certificateToPem(identity.certificate), ...(extra.token !== undefined ? { token: extra.token } : {}), claim }
        : { claim };
    const http = rt.httpOptionsFor({
      url: server,
      verifyCert: cfg.verifyCert,
      clientCertificate: cfg.clientCertificate,
      clientPrivateKey: cfg.clientPrivateKey,
      httpProxy: null,
      timeoutMs: cfg.timeoutMs,
      allowInsecureHttp: cfg.allowInsecureHttp,
    });
    const res = await postJson(url, payload, http);
    const answer = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as Record<string, unknown>;
    if (res.status < 200 || res.status >= 300) {
      const code = shown(answer.code) || 'no code';
      throw new WaptError(
        'HTTP_STATUS',
        `${url} refused the ${type === 'inventory' ? 'registration' : 'status report'}: HTTP ${res.status} ${code}: ${shown(answer.message)}`,
        {
          detail: { url, status: res.status, server_code: code, server_message: shown(answer.message) },
        },
      );
    }
    const packages = inv.packageReports(rows);
    return {
      server,
      host_uuid: hostUuid,
      fingerprint: identity.fingerprint,
      sequence,
      answer,
      packages: packages.length,
      counts: inv.statusCounts(packages),
      key_created: identity.created,
      key_path: identity.keyPath,
      dry_run: false,
    };
  } finally {
    await rt.close();
  }
}

async function tokenFrom(ctx: CommandContext, file: string | undefined): Promise<string | undefined> {
  if (file !== undefined) {
    const path = resolve(ctx.cwd, file);
    const text = await readFile(path, 'utf8').catch((err) => {
      throw new WaptError('IO_ERROR', `--token-file ${path}: ${(err as Error).message}`, { cause: err, detail: { path } });
    });
    return text.split(/\r?\n/)[0]!.trim();
  }
  const env = ctx.env[REGISTRATION_TOKEN_ENV];
  return env ? env.trim() : undefined;
}

export const command: CommandSpec = {
  name: 'register',
  summary: 'register this host with wapt_server (its certificate and a signed inventory)',
  args: ['[description]'],
  options: [
    { flags: '--token-file <file>', description: `file holding the server's registration token (or set ${REGISTRATION_TOKEN_ENV})` },
    { flags: '-n, --dry-run', description: 'say what would be sent where; make no key, send nothing' },
  ],
  help: [
    'Needs wapt_server and host_uuid in wapt-get.ini; verify_cert applies to the server as to repositories',
    '(pin a `wapt-get serve` certificate with verify_cert=<its path>). Registering again with the same',
    'key updates the inventory; a new key is refused (409) until the server admin forgets the host.',
  ].join('\n'),
  async run(ctx, [description], opts) {
    const token = await tokenFrom(ctx, opts.tokenFile);
    const r = await sendReport(ctx, 'inventory', { token, description: description as string | undefined, dryRun: Boolean(opts.dryRun) });
    if (r.dry_run) {
      ctx.out.result(r, () => `would register ${r.host_uuid} with ${r.server} (${r.packages} packages; dry run: nothing was sent)`);
      return;
    }
    const isNew = r.answer.registered === true;
    ctx.out.result({ ...r, registered: isNew }, () => [
      `${isNew ? 'registered' : 'updated the registration of'} ${r.host_uuid} with ${r.server} (${r.packages} packages, report ${r.sequence})`,
      `host certificate sha256 ${r.fingerprint}`,
    ]);
  },
};
