// The mirror's settings from wapt-get.ini, decided once: the origin is judged by the
// ini section that names it (by --repo, else by its repo_url), with that section's pins,
// repository_id, TLS settings and trusted directory, exactly as `update` judges it.
// An origin no section names gets [global]'s trusted directory and the default rule.
import { WaptError } from '../../errors.js';
import { loadSignerPins, TrustStore } from '../../crypto/index.js';
import { HttpClient } from '../../repo/index.js';
import type { RepoConfig, WaptConfig } from '../config.js';
import { httpOptionsForRepo, type AgentLog, type HttpEndpoint } from '../runtime.js';
import { runMirror, type MirrorReport } from './mirror.js';

export interface MirrorRequest {
  url: string;
  dir: string;
  /** The ini section describing the origin (default: the one whose repo_url is `url`). */
  repo?: string;
  dryRun: boolean;
  env: NodeJS.ProcessEnv;
  log: AgentLog;
  now?: Date;
}

function originSection(config: WaptConfig, url: string, name: string | undefined): RepoConfig | undefined {
  if (name !== undefined) {
    const r = config.repos.find((x) => x.name === name);
    if (!r) throw new WaptError('CONFIG_INVALID', `no repository named ${name} in ${config.configPath}`, { detail: { repo: name } });
    return r;
  }
  return config.repos.find((r) => r.url === url);
}

export async function mirrorRepository(config: WaptConfig, req: MirrorRequest): Promise<MirrorReport> {
  const url = req.url.replace(/\/+$/, '');
  if (!/^https?:\/\//i.test(url)) throw new WaptError('USAGE', `mirror ${req.url}: the origin must be an https:// (or http://) URL`);
  const section = originSection(config, url, req.repo);
  const endpoint: HttpEndpoint = section
    ? { ...section, url }
    : {
        url,
        verifyCert: config.verifyCert,
        clientCertificate: config.clientCertificate,
        clientPrivateKey: config.clientPrivateKey,
        httpProxy: config.useHttpProxyForRepo ? config.httpProxy : null,
        timeoutMs: config.timeoutMs,
        allowInsecureHttp: config.allowInsecureHttp,
      };
  const trust = await TrustStore.load(section?.trustedCertsDir ?? config.trustedCertsDir, { onWarning: (m) => req.log.warn(m) });
  const where = `[${section?.name ?? 'global'}]`;
  const signers = {
    index: await loadSignerPins(`${where} index_signer`, section?.indexSigners ?? []),
    freshness: await loadSignerPins(`${where} index_freshness_signer`, section?.indexFreshnessSigners ?? []),
  };
  const client = new HttpClient(httpOptionsForRepo(config, endpoint, req.env, req.log));
  try {
    return await runMirror({
      url,
      dir: req.dir,
      client,
      trust,
      signers,
      repositoryId: section?.repositoryId ?? null,
      allowUnsigned: section?.allowUnsignedIndex ?? config.allowUnsignedIndex,
      dryRun: req.dryRun,
      lockTimeoutMs: config.lockTimeoutMs,
      parallel: config.maxParallelDownloads,
      log: req.log,
      now: req.now,
    });
  } finally {
    await client.close();
  }
}
