// `wapt-get serve --repo DIR`: a small HTTPS file server for demos and small
// sites (production: nginx, docs/nginx.md). Prints the URL and the certificate
// fingerprint to pin (W-G4 verify_cert=<cert path>), logs requests to stderr,
// stops cleanly on SIGINT/SIGTERM.
import { createHash, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { WaptError } from '../../errors.js';
import type { CommandContext, CommandOptions, CommandSpec } from '../command.js';
import { configOf } from '../context.js';

async function directory(ctx: CommandContext, flag: string, value: string): Promise<string> {
  const dir = resolve(ctx.cwd, value);
  const st = await stat(dir).catch((err) => {
    throw new WaptError('IO_ERROR', `${flag} ${value}: ${(err as Error).message}`, { cause: err, detail: { path: dir } });
  });
  if (!st.isDirectory()) throw new WaptError('USAGE', `${flag} ${value}: not a directory`, { detail: { path: dir } });
  return dir;
}

const hostRepoDirGiven = (opts: CommandOptions) => Boolean(opts.hostRepo);

export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text.trim()) || Number(text) > 65535) {
    throw new WaptError('USAGE', `--port ${text}: a whole number from 0 to 65535 (0 picks a free port)`, { detail: { value: text } });
  }
  return Number(text);
}

/** <dbdir>/serve-tls, so the self-signed certificate (and the pins made from it) survives restarts. */
async function defaultTlsDir(ctx: CommandContext): Promise<string> {
  try {
    return join((await configOf(ctx)).dbdir, 'serve-tls');
  } catch (err) {
    ctx.out.warn(`config not usable (${(err as Error).message}); keeping the TLS certificate in the user state directory`);
    return join(ctx.env.XDG_STATE_HOME || join(ctx.env.HOME || homedir(), '.local', 'state'), 'wapt-get', 'serve-tls');
  }
}

async function fingerprintOf(certPath: string): Promise<string> {
  try {
    return createHash('sha256')
      .update(new X509Certificate(await readFile(certPath)).raw)
      .digest('hex');
  } catch (err) {
    throw new WaptError('CERT_INVALID', `--cert ${certPath}: ${(err as Error).message}`, { cause: err, detail: { path: certPath } });
  }
}

/** The management options from the flags; undefined when --data-dir is absent (plain file server). */
async function managementFrom(ctx: CommandContext, opts: CommandOptions) {
  const tokenGiven = opts.registrationToken !== undefined || opts.registrationTokenFile !== undefined;
  if (!opts.dataDir) {
    if (tokenGiven || opts.openRegistration) throw new WaptError('USAGE', '--registration-token(-file) and --open-registration need --data-dir');
    return undefined;
  }
  if (opts.registrationToken !== undefined && opts.registrationTokenFile !== undefined) {
    throw new WaptError('USAGE', 'give --registration-token or --registration-token-file, not both');
  }
  if (tokenGiven && opts.openRegistration) throw new WaptError('USAGE', '--open-registration contradicts a registration token');
  let registrationToken: string | undefined;
  if (opts.registrationTokenFile !== undefined) {
    const file = resolve(ctx.cwd, opts.registrationTokenFile);
    const text = await readFile(file, 'utf8').catch((err) => {
      throw new WaptError('IO_ERROR', `--registration-token-file ${file}: ${(err as Error).message}`, { cause: err, detail: { path: file } });
    });
    registrationToken = text.split(/\r?\n/)[0]!.trim();
  } else if (opts.registrationToken !== undefined) {
    registrationToken = String(opts.registrationToken).trim();
  }
  if (registrationToken === '') throw new WaptError('USAGE', 'the registration token is empty');
  // without a shared token, hosts register with enrolment tokens (`wapt-get serve-admin enroll-token`, F1A)
  const dataDir = resolve(ctx.cwd, opts.dataDir);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { parseRetention } = await import('./serve-admin.js');
  return {
    dataDir,
    registrationToken,
    openRegistration: Boolean(opts.openRegistration),
    db: opts.db ? String(opts.db) : undefined,
    adminTokensFile: opts.adminTokensFile ? resolve(ctx.cwd, opts.adminTokensFile) : undefined,
    keepReportsMs: opts.keepReports ? parseRetention('--keep-reports', String(opts.keepReports)) : null,
    expireHostsMs: opts.expireHosts ? parseRetention('--expire-hosts', String(opts.expireHosts)) : null,
  };
}

/** The relay's HTTP options: head office's CA (or pin) and the relay's own credential. */
async function upstreamFrom(ctx: CommandContext, opts: CommandOptions) {
  if (!opts.upstream) return undefined;
  const { parseVerifyCert } = await import('../../repo/index.js');
  const { VERSION_STRING } = await import('../../version.js');
  let url: URL;
  try {
    url = new URL(String(opts.upstream));
  } catch {
    throw new WaptError('USAGE', `--upstream ${String(opts.upstream)}: not a URL`);
  }
  if (url.protocol !== 'https:') throw new WaptError('USAGE', '--upstream must be an https:// URL');
  if (opts.upstreamTokenFile) {
    const token = (await readFile(resolve(ctx.cwd, opts.upstreamTokenFile), 'utf8')).split(/\r?\n/)[0]!.trim();
    url.username = 'relay';
    url.password = encodeURIComponent(token); // Basic with the token as password (role operate upstream)
  }
  return {
    upstream: url.toString().replace(/\/+$/, ''),
    http: {
      verifyCert: parseVerifyCert(opts.upstreamCa ? resolve(ctx.cwd, opts.upstreamCa) : '1', ctx.cwd),
      connectTimeoutMs: 10_000,
      readTimeoutMs: 30_000,
      retries: 0,
      retryBaseMs: 200,
      maxRedirects: 0,
      allowInsecureHttp: false,
      userAgent: `wapt-get-relay/${VERSION_STRING}`,
      onWarning: (m: string) => ctx.out.warn(m),
    },
  };
}

/** --index-key: uploads verified with the trusted directory, then re-indexed and re-signed (server/publisher.ts). */
async function publisherFrom(ctx: CommandContext, opts: CommandOptions, repoDir: string, withManagement: boolean) {
  if (!opts.indexKey && !opts.indexCert) return undefined;
  if (!opts.indexKey || !opts.indexCert) throw new WaptError('USAGE', '--index-key and --index-cert go together');
  if (!withManagement) throw new WaptError('USAGE', '--index-key needs --data-dir (uploads are an admin path, B2)');
  const { loadSigner } = await import('../signing-key.js');
  const { trustStoreFor } = await import('../context.js');
  const { parseDuration } = await import('../../repo/index.js');
  const { Publisher } = await import('../../server/index.js');
  const signer = await loadSigner(ctx, {
    key: resolve(ctx.cwd, opts.indexKey),
    cert: resolve(ctx.cwd, opts.indexCert),
    passwordFile: opts.indexPasswordFile ? resolve(ctx.cwd, opts.indexPasswordFile) : undefined,
  });
  const trust = await trustStoreFor(ctx, opts.trusted);
  return new Publisher({
    repoDir,
    trust,
    signing: { key: signer.key, cert: signer.certificates[0]!, expiresInMs: parseDuration(String(opts.indexExpires ?? '7d')) },
    maxBytes: 4 * 1024 ** 3,
    onWarning: (m) => ctx.out.warn(m),
  });
}

/** --host-repo with --data-dir: edit-host --server puts host packages there (server/host-package-upload.ts). */
async function hostPublisherFrom(ctx: CommandContext, opts: CommandOptions, hostRepoDir: string | undefined) {
  if (!hostRepoDir) return undefined;
  const { trustStoreFor } = await import('../context.js');
  const { HostPackagePublisher } = await import('../../server/index.js');
  return new HostPackagePublisher({ hostRepoDir, trust: await trustStoreFor(ctx, opts.trusted), maxBytes: 64 * 1024 ** 2 });
}

export const command: CommandSpec = {
  name: 'serve',
  summary: 'serve a repository directory over HTTPS (demos and small sites; use nginx in production)',
  options: [
    { flags: '--repo <dir>', description: 'repository directory (Packages + *.wapt), served at / and /wapt/' },
    { flags: '--host-repo <dir>', description: 'host packages directory (W-F4), served at /wapt-host/' },
    { flags: '--listen <addr>', description: 'address to bind', default: '127.0.0.1' },
    { flags: '--port <n>', description: 'TCP port (0: a free one, printed)', default: '8443' },
    { flags: '--tls-dir <dir>', description: 'where the self-signed certificate is made once and reused (default: <dbdir>/serve-tls)' },
    { flags: '--cert <pem>', description: 'server certificate (PEM, chain may follow) instead of the self-signed one' },
    { flags: '--key <pem>', description: 'private key of --cert (PEM, unencrypted)' },
    {
      flags: '--data-dir <dir>',
      description: 'enable the management API (/api/v1/: host registration, signed reports) and /dashboard; host records live here',
    },
    { flags: '--registration-token <token>', description: 'shared secret hosts must present to register (visible in ps: prefer --registration-token-file)' },
    { flags: '--registration-token-file <file>', description: 'file holding the registration secret (first line)' },
    { flags: '--open-registration', description: 'let any host register without a token (not recommended)' },
    {
      flags: '--db <url>',
      description: 'postgres://user@host:port/db: keep the fleet in PostgreSQL (several serve may share it); default: files in --data-dir',
    },
    { flags: '--admin-tokens-file <file>', description: 'admin credentials, lines "NAME ROLE SHA256HEX" (roles view, operate, admin); re-read on change' },
    { flags: '--admin-ca <pem>', description: 'CA issuing admin client certificates (mTLS, admin paths only)' },
    { flags: '--upstream <url>', description: 'relay: forward every accepted report unchanged to this serve (head office)' },
    { flags: '--upstream-token-file <file>', description: "relay: this relay's admin token at the upstream (role operate)" },
    { flags: '--upstream-ca <pem>', description: "relay: CA bundle or pinned certificate of the upstream (default: the system's)" },
    { flags: '--index-key <pem>', description: 'accept package uploads (PUT /api/v1/packages/…, role admin) and re-sign the index with this key' },
    { flags: '--index-cert <crt>', description: 'certificate of --index-key (a code-signing or pinned index signer)' },
    { flags: '--index-password-file <file>', description: 'file holding the password of --index-key (else $WAPT_KEY_PASSWORD)' },
    { flags: '--index-expires <duration>', description: 'lifetime of the statements serve signs after an upload', default: '7d' },
    { flags: '--trusted <dir>', description: 'trusted directory uploads must verify against (default: ssl/ beside wapt-get.ini)' },
    { flags: '--keep-reports <age>', description: 'delete stored reports older than this (e.g. 90d)' },
    { flags: '--expire-hosts <age>', description: 'forget hosts not seen for this long (e.g. 180d; a tombstone stays)' },
  ],
  help: [
    'Prints "listening on https://ADDR:PORT/" and the SHA-256 fingerprint of the certificate.',
    'Clients pin the self-signed certificate with verify_cert=<path of the printed certificate>.',
    'Dotfiles (the scan cache) are not served; directories are not listed.',
    '',
    'With --data-dir, hosts register (`wapt-get register`) and send signed status reports',
    '(automatically after update/install/upgrade/remove/audit). Admin paths (/api/v1/hosts…,',
    '/dashboard) need --admin-tokens-file or --admin-ca (B2). Hosts register with an enrolment token',
    '(`wapt-get serve-admin enroll-token`). Forget a host: DELETE /api/v1/hosts/<uuid> (role admin).',
    'See docs/fleet.md.',
    '',
    'Example: wapt-get serve --repo /var/www/wapt --host-repo /var/www/wapt-host --listen 0.0.0.0 --port 8443',
  ].join('\n'),
  async run(ctx, _args, opts) {
    if (!opts.repo) throw new WaptError('USAGE', 'serve needs --repo DIR (the directory scanpackages indexed)');
    if (Boolean(opts.cert) !== Boolean(opts.key)) throw new WaptError('USAGE', '--cert and --key go together');
    const repoDir = await directory(ctx, '--repo', opts.repo);
    const hostRepoDir = opts.hostRepo ? await directory(ctx, '--host-repo', opts.hostRepo) : undefined;
    const port = parsePort(String(opts.port ?? '8443'));
    const management = await managementFrom(ctx, opts);
    const publisher = await publisherFrom(ctx, opts, repoDir, Boolean(management));
    const upstream = await upstreamFrom(ctx, opts);
    if (upstream && !management) throw new WaptError('USAGE', '--upstream needs --data-dir (the relay queue lives there)');
    if ((opts.adminTokensFile || opts.adminCa) && !management) throw new WaptError('USAGE', '--admin-tokens-file and --admin-ca need --data-dir');
    if (hostRepoDirGiven(opts) && !management) {
      ctx.out.warn('--host-repo without --data-dir: host packages are served to anyone who knows a UUID (demo only)');
    }
    if (management?.openRegistration) {
      ctx.out.warn('OPEN REGISTRATION: any host that can reach this server may register any unused host UUID; use --registration-token-file in production');
    }
    const { startServer, waitForSignal, ensureSelfSignedTls } = await import('../../server/index.js');
    // Handlers first: a SIGTERM during certificate generation or right after the URL line still stops us cleanly.
    const signal = waitForSignal();

    let tls: { certPath: string; keyPath: string; fingerprintSha256: string; selfSigned: boolean };
    if (opts.cert) {
      const certPath = resolve(ctx.cwd, opts.cert);
      tls = { certPath, keyPath: resolve(ctx.cwd, opts.key), fingerprintSha256: await fingerprintOf(certPath), selfSigned: false };
    } else {
      const dir = opts.tlsDir ? resolve(ctx.cwd, opts.tlsDir) : await defaultTlsDir(ctx);
      tls = { ...(await ensureSelfSignedTls(dir)), selfSigned: true };
    }
    if (!(await stat(join(repoDir, 'Packages')).catch(() => null))) {
      ctx.out.warn(`${repoDir} has no Packages index yet: run \`wapt-get scanpackages ${repoDir}\``);
    }

    const server = await startServer({
      repoDir,
      hostRepoDir,
      listen: opts.listen,
      port,
      certPath: tls.certPath,
      keyPath: tls.keyPath,
      management: management && { ...management, publisher, hostPublisher: await hostPublisherFrom(ctx, opts, hostRepoDir) },
      adminCaPath: opts.adminCa ? resolve(ctx.cwd, opts.adminCa) : undefined,
      log: (line) => ctx.out.info(line),
    });
    const { startFleetServices } = await import('../../server/index.js');
    const services = server.management
      ? await startFleetServices(server.management, {
          dataDir: management!.dataDir,
          upstream,
          keepReportsMs: management!.keepReportsMs,
          expireHostsMs: management!.expireHostsMs,
          log: (l) => ctx.out.info(l),
        })
      : null;
    const data = {
      url: server.url,
      repo_url: `${server.url}wapt`,
      host_repo_url: hostRepoDir ? `${server.url}wapt-host` : null,
      repo: repoDir,
      host_repo: hostRepoDir ?? null,
      certificate: tls.certPath,
      self_signed: tls.selfSigned,
      fingerprint_sha256: tls.fingerprintSha256,
      management: management
        ? {
            data_dir: management.dataDir,
            api_url: `${server.url}api/v1/`,
            dashboard_url: `${server.url}dashboard`,
            registration: management.openRegistration ? 'open' : 'token',
            store: management.db ? 'postgres' : 'files',
            upstream: upstream ? upstream.upstream.replace(/\/\/[^@/]*@/, '//') : null,
          }
        : null,
    };
    ctx.out.result(data, () => [
      `listening on ${server.url}`,
      `repository ${repoDir} at ${server.url} (also ${server.url}wapt/)`,
      ...(hostRepoDir ? [`host repository ${hostRepoDir} at ${server.url}wapt-host/ (repo_url=${server.url}wapt finds it)`] : []),
      `certificate ${tls.certPath}${tls.selfSigned ? ' (self-signed)' : ''}`,
      `sha256 fingerprint ${tls.fingerprintSha256}`,
      ...(tls.selfSigned ? [`pin it in wapt-get.ini: verify_cert=${tls.certPath}`] : []),
      ...(management
        ? [
            `management API ${server.url}api/v1/ (hosts in ${management.dataDir}, registration ${management.openRegistration ? 'OPEN' : 'by token'})`,
            `dashboard ${server.url}dashboard; hosts use wapt_server=${server.url.replace(/\/$/, '')}`,
          ]
        : []),
    ]);
    const sig = await signal;
    ctx.out.info(`${sig}: stopping`);
    await services?.stop();
    await server.close();
    return 0;
  },
};
