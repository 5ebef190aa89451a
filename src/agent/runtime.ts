// What one agent run holds: the resolved config, the run lock (for verbs that
// change state), the local DB, the trust store and one HTTP client per repository.
// Verbs open it once, do their work, and close it in `finally`.
import { join } from 'node:path';
import { WaptError } from '../errors.js';
import { TrustStore } from '../crypto/index.js';
import { HttpClient, parseVerifyCert, proxyFromEnv, type HttpOptions } from '../repo/index.js';
import type { RepoConfig, WaptConfig } from './config.js';
import { DB_FILENAME, openDb, type WaptDb } from './db/index.js';
import { acquireLock, type Lock } from './lock.js';
import { VERSION_STRING } from '../version.js';
import { ensurePrivateDir } from '../private-state.js';
import { protectStateDirs } from './platform.js';

/** Where diagnostics go (the CLI passes its Output). */
export interface AgentLog {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
}

export interface RuntimeOptions {
  /** Take the exclusive run lock (every verb that writes state). */
  lock: boolean;
  lockTimeoutMs?: number;
  /** `update` may start over from a corrupt DB (it is moved aside, never deleted). */
  recreateCorruptDb?: boolean;
  env: NodeJS.ProcessEnv;
  log: AgentLog;
}

export class AgentRuntime {
  private readonly clients = new Map<string, HttpClient>();

  private constructor(
    readonly config: WaptConfig,
    readonly db: WaptDb,
    readonly trust: TrustStore,
    readonly log: AgentLog,
    private readonly env: NodeJS.ProcessEnv,
    private readonly lock: Lock | null,
  ) {}

  static async open(config: WaptConfig, opts: RuntimeOptions): Promise<AgentRuntime> {
    // Private state: dbdir and the cache 0700, tightened with a warning when found wider.
    await ensurePrivateDir(config.dbdir, { onWarning: (m) => opts.log.warn(m) });
    await ensurePrivateDir(config.cacheDir, { onWarning: (m) => opts.log.warn(m) });
    try {
      protectStateDirs([config.dbdir, config.cacheDir], { isAdmin: config.isRoot && config.userModeRoot === null });
    } catch (err) {
      throw new WaptError('STATE_UNSAFE', `${(err as Error).message}: the local state would be readable by other users`, { cause: err });
    }
    let lock: Lock | null = null;
    if (opts.lock) {
      lock = await acquireLock(config.lockPath, {
        timeoutMs: opts.lockTimeoutMs ?? config.lockTimeoutMs,
        onWait: (h) => opts.log.info(`waiting for another wapt-get (pid ${h.pid}, ${h.command}, since ${h.startedAt})…`),
        onWarning: (m) => opts.log.warn(m),
      });
    }
    try {
      const db = await openDb(config.dbPath, { recreateCorrupt: opts.recreateCorruptDb, writable: opts.lock, onWarning: (m) => opts.log.warn(m) });
      const trust = await TrustStore.load(config.trustedCertsDir, { onWarning: (m) => opts.log.warn(m) });
      return new AgentRuntime(config, db, trust, opts.log, opts.env, lock);
    } catch (err) {
      await lock?.release();
      throw err;
    }
  }

  /** HTTP options for one repository, from its config section (W-G4). */
  httpOptionsFor(repo: HttpEndpoint): HttpOptions {
    return httpOptionsForRepo(this.config, repo, this.env, this.log);
  }

  http(repo: RepoConfig): HttpClient {
    let c = this.clients.get(repo.name);
    if (!c) {
      c = new HttpClient(this.httpOptionsFor(repo));
      this.clients.set(repo.name, c);
    }
    return c;
  }

  repo(name: string): RepoConfig {
    const r = this.config.repos.find((x) => x.name === name) ?? (this.config.hostRepo?.name === name ? this.config.hostRepo : undefined);
    if (!r) throw new WaptError('CONFIG_INVALID', `no repository named ${name} in ${this.config.configPath}`);
    return r;
  }

  /** `whileLocked` runs after the DB files are final, before the lock goes (update's side file, fast-304.ts). */
  async close(whileLocked?: () => Promise<void>): Promise<void> {
    for (const c of this.clients.values()) await c.close().catch(() => undefined);
    this.clients.clear();
    try {
      this.db.close();
      await whileLocked?.();
    } finally {
      await this.lock?.release();
    }
  }
}

/** What HTTP settings need of a repository section (a wapt_server or an upload target fits too). */
export type HttpEndpoint = Pick<RepoConfig, 'url' | 'verifyCert' | 'clientCertificate' | 'clientPrivateKey' | 'httpProxy' | 'timeoutMs' | 'allowInsecureHttp'>;

/** HTTP options for one repository (W-G4): also used by packager verbs that fetch from an upstream without a DB. */
export function httpOptionsForRepo(config: WaptConfig, repo: HttpEndpoint, env: NodeJS.ProcessEnv, log: AgentLog): HttpOptions {
  const baseDir = join(config.configPath, '..');
  const proxy = repo.httpProxy ?? proxyFromEnv(repo.url, env);
  return {
    verifyCert: parseVerifyCert(typeof repo.verifyCert === 'string' ? repo.verifyCert : repo.verifyCert ? '1' : '0', baseDir),
    proxy: proxy ?? undefined,
    noProxy: env.no_proxy ?? env.NO_PROXY,
    clientCert: repo.clientCertificate ?? undefined,
    clientKey: repo.clientPrivateKey ?? undefined,
    connectTimeoutMs: repo.timeoutMs,
    readTimeoutMs: repo.timeoutMs,
    retries: 3,
    retryBaseMs: 200,
    maxRedirects: 5,
    allowInsecureHttp: repo.allowInsecureHttp,
    userAgent: `wapt-get/${VERSION_STRING}`,
    limitRateBytesPerSec: config.limitRate ?? undefined,
    limits: {
      transferTimeoutMs: config.transferTimeoutMs,
      // our own rate cap must never trip the minimum rate
      lowSpeedLimit: config.limitRate ? Math.min(config.lowSpeedLimit, Math.floor(config.limitRate / 2)) : config.lowSpeedLimit,
      lowSpeedTimeMs: config.lowSpeedTimeMs,
    },
    onWarning: (m) => log.warn(m),
  };
}

export { DB_FILENAME };
