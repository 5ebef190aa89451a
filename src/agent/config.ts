// wapt-get.ini (W-G4, source notes §9) resolved ONCE into a fully populated, typed
// WaptConfig: every default lives here, so the rest of the program never guesses.
// Precedence, highest first: overrides (command line) > environment > ini > defaults.
import { readFileSync, promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { WaptError } from '../errors.js';
import { TrackedSection, unknownKeys, unknownKeyWarning } from './config-keys.js';
import { parseIni } from './ini.js';
import { defaultPaths, isAdmin } from './platform.js';

/** false: no TLS check; true: system CAs; string: absolute path of a CA bundle or a pinned server certificate. */
export type VerifyCert = boolean | string;
export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical';

export interface RepoConfig {
  /** The ini section name ('global' for the main repository). */
  name: string;
  /** Without trailing slash. */
  url: string;
  /**
   * Higher first. Every repository defaults to 0 and ties keep ini order with [global]
   * first, so the main repository wins unless another says `priority` > 0. The resolver
   * still prefers the highest version; priority orders repositories offering the same one.
   */
  priority: number;
  verifyCert: VerifyCert;
  clientCertificate: string | null;
  clientPrivateKey: string | null;
  /** The proxy to use for this repository, already decided (null = direct). */
  httpProxy: string | null;
  timeoutMs: number;
  allowInsecureHttp: boolean;
  allowUnsignedIndex: boolean;
  // X2 index trust (always settled by loadConfig; absent on ad-hoc HTTP endpoints such as wapt_server).
  /** X2 `index_signer`: pinned index statement signers (64-hex fingerprints or absolute certificate paths); [] = the default rule. */
  indexSigners?: string[];
  /** X2 `index_freshness_signer`: certificates that may only renew the index's version and expiry (refresh-index); [] = none. */
  indexFreshnessSigners?: string[];
  /** X2 `repository_id`: the repository name its statements must carry; null = the name first accepted. */
  repositoryId?: string | null;
  /**
   * The section's OWN `trusted_certs_dir` (no fallback to [global]): an upstream repository the
   * packager duplicates from is verified against its own signers, never ours. Absent = not set.
   */
  trustedCertsDir?: string;
  /**
   * ours (issue 12 §5) `repo_rules`: site mirrors tried before `url`, each for hosts with an
   * address in its network, in ini order (agent/update/repo-rules.ts). Absent = none.
   */
  rules?: RepoRule[];
}

/** One `repo_rules` item: `10.1.0.0/16 https://mirror-lyon/wapt`. */
export interface RepoRule {
  /** CIDR as written, e.g. 10.1.0.0/16 or fd00::/8. */
  network: string;
  url: string;
}

export interface WaptConfig {
  /** The ini file read (or that would have been read: configFound says). */
  configPath: string;
  configFound: boolean;
  /** The path came from --config (not a default): a missing file is then an error where it matters. */
  configExplicit: boolean;
  /** Where each raw [global] key's value came from: `file:line`, `environment NAME` or `command line`; absent = default. */
  origins: Record<string, string>;
  /** Problems worth a warning (unknown keys with a "did you mean", a missing --config file). */
  warnings: string[];
  /** `log_file`: agent runs append their steps and hook output here (rotated at 10 MiB); null = none. */
  logFile: string | null;
  isRoot: boolean;
  dbdir: string;
  /** dbdir/waptdb.sqlite unless `dbpath` is set (W-G1). */
  dbPath: string;
  lockPath: string;
  cacheDir: string;
  trustedCertsDir: string;
  /** Install repositories, sorted by priority (see RepoConfig.priority). */
  repos: RepoConfig[];
  useHostPackages: boolean;
  /** W-F4: `[wapt-host] repo_url`, else `<repo_url>-host`; null when disabled or no URL. */
  hostRepo: RepoConfig | null;
  /** `host_uuid` (or WAPT's `uuid`), else derived from /etc/machine-id; null if unknown. */
  hostUuid: string | null;
  hostProfiles: string[];
  httpProxy: string | null;
  useHttpProxyForRepo: boolean;
  /** Accepted maturities; '' accepts packages without one; [] accepts all (W-C4). */
  maturities: string[];
  /** Preferred locales, best first; [] = any. */
  locales: string[];
  architecture: string;
  timeoutMs: number;
  installTimeoutMs: number;
  lockTimeoutMs: number;
  /** Download rate limit in bytes/s; null = unlimited. */
  limitRate: number | null;
  /** max_parallel_downloads: packages fetched at once by upgrade / download-upgrade / download (the rate cap is shared). */
  maxParallelDownloads: number;
  /** transfer_timeout: longest one download may take, retries included (0 = none). */
  transferTimeoutMs: number;
  /** low_speed_limit (bytes/s, 0 = none) averaged over low_speed_time: slower transfers are aborted (curl -Y/-y). */
  lowSpeedLimit: number;
  lowSpeedTimeMs: number;
  /** Age after which the stored index is outdated (ms); null = never. */
  indexMaxAgeMs: number | null;
  verifyCert: VerifyCert;
  clientCertificate: string | null;
  clientPrivateKey: string | null;
  privateKey: string | null;
  personalCertificatePath: string | null;
  defaultPackagePrefix: string;
  defaultSourcesRoot: string | null;
  waptServer: string | null;
  loglevel: LogLevel;
  /** When set, install/remove run unprivileged and hooks install below this directory. */
  userModeRoot: string | null;
  allowUnsignedIndex: boolean;
  allowInsecureHttp: boolean;
  /** ours (Fleet): automatic reports to wapt_server: timeout, random delay before sending, outbox bound. */
  reportTimeoutMs: number;
  reportJitterMs: number;
  outboxMax: number;
  /** ours (F3A): certificates (CAs) whose holders may sign actions for this host; null = no action is accepted. */
  actionSignersDir: string | null;
}

/** Raw [global] keys as they would appear in the ini (command-line values). */
export type ConfigOverrides = Partial<Record<string, string | number | boolean>>;

export interface LoadConfigOptions {
  path?: string;
  env: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
  /** Base for relative paths in overrides and environment; default process.cwd(). */
  cwd?: string;
  /** Default: platform.ts isAdmin() (root; on Windows an elevated token or SYSTEM). */
  isRoot?: boolean;
  /** Whose default paths to use; default process.platform (tests pass 'win32'). */
  platform?: NodeJS.Platform;
  /** Default /etc/machine-id. */
  machineIdPath?: string;
}

const ENV_KEYS: Record<string, string> = {
  WAPT_GET_DBDIR: 'dbdir',
  WAPT_GET_CACHEDIR: 'cachedir',
  WAPT_GET_TRUSTED: 'trusted_certs_dir',
  WAPT_GET_USER_ROOT: 'user_mode_root',
};
/** Sections that carry a repo_url but are not install repositories. */
const NOT_REPOS = new Set(['global', 'wapt-host', 'wapt-templates']);

/** One raw value and where it came from (for messages and relative paths). */
interface Raw {
  value: string;
  base: string;
  where: string;
  /** Short origin for `wapt-get config`: file:line, environment NAME, command line. */
  origin: string;
}
type Section = Map<string, Raw>;

function invalid(r: Raw, key: string, expected: string): WaptError {
  return new WaptError('CONFIG_INVALID', `invalid value '${r.value}' for ${key} (${r.where}): expected ${expected}`, {
    detail: { key, value: r.value, where: r.where },
  });
}

function defaultConfigPath(env: NodeJS.ProcessEnv, isRoot: boolean, platform: NodeJS.Platform): string {
  if (env.WAPT_GET_CONFIG) return path.resolve(env.WAPT_GET_CONFIG);
  return defaultPaths({ platform, env, isAdmin: isRoot }).configPath;
}

function defaultDbdir(env: NodeJS.ProcessEnv, isRoot: boolean, platform: NodeJS.Platform): string {
  return defaultPaths({ platform, env, isAdmin: isRoot }).dbdir;
}

/** configparser syntax (ini.ts), each value with its file:line; reads are tracked for the unknown-key check. */
function readSections(text: string, file: string, asked: Set<string>): Map<string, Section> {
  const sections = new Map<string, Section>();
  const base = path.dirname(file);
  for (const [name, values] of parseIni(text, file).sections) {
    const sec: Section = new TrackedSection(asked);
    for (const [k, v] of values) {
      sec.set(k, { value: v.value.trim(), base, where: `[${name}] ${k} in ${file}:${v.line}`, origin: `${file}:${v.line}` });
    }
    sections.set(name, sec);
  }
  return sections;
}

function parseBool(r: Raw, key: string): boolean {
  const v = r.value.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw invalid(r, key, '0/1, true/false, yes/no or on/off');
}

/** Seconds (plain number) or a number with s/m/h/d; returns ms. */
function parseDuration(r: Raw, key: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/i.exec(r.value);
  if (!m) throw invalid(r, key, 'a duration in seconds (or with s/m/h/d)');
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's').toLowerCase() as 's'];
  return Math.round(Number(m[1]) * unit * 1000);
}

function parseRate(r: Raw, key: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg])?$/i.exec(r.value);
  if (!m) throw invalid(r, key, 'bytes per second, optionally with k/M/G');
  const n = Number(m[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as ''];
  return n === 0 ? null : Math.round(n);
}

function parseUrl(r: Raw, key: string): string {
  let u: URL;
  try {
    u = new URL(r.value);
  } catch {
    throw invalid(r, key, 'an https://, http:// or file: URL');
  }
  // file: serves an unpacked offline bundle or a local mirror; it is verified like any repository.
  if (!['https:', 'http:', 'file:'].includes(u.protocol)) throw invalid(r, key, 'an https://, http:// or file: URL');
  return r.value.replace(/\/+$/, '');
}

/** Absent: PROD and unmarked packages (W-C4). `maturities=` (empty): all. `PROD,` keeps the empty entry. */
function parseMaturities(r: Raw | undefined): string[] {
  if (r === undefined) return ['PROD', ''];
  if (r.value === '') return [];
  return [...new Set(r.value.split(',').map((s) => s.trim()))];
}

function parseList(r: Raw | undefined): string[] | undefined {
  return r === undefined ? undefined : r.value.split(',').map((s) => s.trim());
}

/** Reads typed values from one section, falling back to another (repo sections → [global]). */
class Reader {
  constructor(
    private readonly sec: Section,
    private readonly fallback?: Reader,
  ) {}
  raw(key: string): Raw | undefined {
    const r = this.sec.get(key);
    return r !== undefined && r.value !== '' ? r : this.fallback?.raw(key);
  }
  str(key: string): string | null {
    return this.raw(key)?.value ?? null;
  }
  path(key: string): string | null {
    const r = this.raw(key);
    return r ? path.resolve(r.base, r.value) : null;
  }
  /** A value set in this very section (no fallback). */
  own(key: string): Raw | undefined {
    const r = this.sec.get(key);
    return r !== undefined && r.value !== '' ? r : undefined;
  }
  /** A path set in this very section (no fallback). */
  ownPath(key: string): string | null {
    const r = this.sec.get(key);
    return r !== undefined && r.value !== '' ? path.resolve(r.base, r.value) : null;
  }
  bool(key: string, dflt: boolean): boolean {
    const r = this.raw(key);
    return r ? parseBool(r, key) : dflt;
  }
  duration(key: string, dflt: number): number {
    const r = this.raw(key);
    return r ? parseDuration(r, key) : dflt;
  }
  verifyCert(): VerifyCert {
    const r = this.raw('verify_cert');
    if (!r) return true;
    if (/^(0|false|no|off)$/i.test(r.value)) return false;
    if (/^(1|true|yes|on)$/i.test(r.value)) return true;
    return path.resolve(r.base, r.value);
  }
}

function machineUuid(file: string): string | null {
  try {
    const id = readFileSync(file, 'utf8').trim().toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(id)) return null;
    return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`.toUpperCase();
  } catch {
    return null;
  }
}

function defaultArch(): string {
  return ({ x64: 'x64', ia32: 'x86', arm64: 'arm64', arm: 'arm' } as Record<string, string>)[process.arch] ?? process.arch;
}

function repoConfig(name: string, url: string, r: Reader): RepoConfig {
  const pr = r.raw('priority');
  if (pr && !/^-?\d+$/.test(pr.value)) throw invalid(pr, 'priority', 'an integer');
  const proxy = r.str('http_proxy');
  return {
    name,
    url,
    priority: pr ? Number(pr.value) : 0,
    verifyCert: r.verifyCert(),
    clientCertificate: r.path('client_certificate'),
    clientPrivateKey: r.path('client_private_key'),
    httpProxy: proxy && r.bool('use_http_proxy_for_repo', false) ? proxy : null,
    timeoutMs: r.duration('timeout', 30_000),
    allowInsecureHttp: r.bool('allow_insecure_http', false),
    allowUnsignedIndex: r.bool('allow_unsigned_index', false),
    ...ownTrust(name, r),
    ...indexTrust(r),
    ...repoRules(r),
  };
}

/** `repo_rules = NET URL, NET URL…` of this very section (a mirror serves one repository). */
function repoRules(r: Reader): { rules?: RepoRule[] } {
  const raw = r.own('repo_rules');
  if (!raw) return {};
  const rules = raw.value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((item): RepoRule => {
      const [network, url, extra] = item.split(/\s+/);
      const m = /^([^/]+)\/(\d{1,3})$/.exec(network ?? '');
      const family = m ? isIP(m[1]!) : 0;
      if (!m || family === 0 || Number(m[2]) > (family === 4 ? 32 : 128) || !url || extra !== undefined) {
        throw invalid(raw, 'repo_rules', 'comma-separated "NETWORK/PREFIX URL" items, e.g. 10.1.0.0/16 https://mirror-lyon/wapt');
      }
      return { network: `${m[1]!.toLowerCase()}/${m[2]}`, url: parseUrl({ ...raw, value: url }, 'repo_rules') };
    });
  return { rules };
}

/** X2 pins and identity: the section's own keys only ([global] speaks for the main repository alone). */
function indexTrust(r: Reader): Required<Pick<RepoConfig, 'indexSigners' | 'indexFreshnessSigners' | 'repositoryId'>> {
  const pins = (key: string): string[] => {
    const raw = r.own(key);
    if (!raw) return [];
    return raw.value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean)
      .map((v) => {
        const hex = v.replace(/:/g, '').toLowerCase();
        return /^[0-9a-f]{64}$/.test(hex) ? hex : path.resolve(raw.base, v);
      });
  };
  const id = r.own('repository_id');
  if (id && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id.value)) throw invalid(id, 'repository_id', 'a repository name (letters, digits, . _ -)');
  return { indexSigners: pins('index_signer'), indexFreshnessSigners: pins('index_freshness_signer'), repositoryId: id?.value ?? null };
}

function ownTrust(name: string, r: Reader): { trustedCertsDir?: string } {
  const dir = name === 'global' ? null : r.ownPath('trusted_certs_dir');
  return dir ? { trustedCertsDir: dir } : {};
}

export async function loadConfig(opts: LoadConfigOptions): Promise<WaptConfig> {
  const { env } = opts;
  const cwd = opts.cwd ?? process.cwd();
  const isRoot = opts.isRoot ?? isAdmin();
  const platform = opts.platform ?? process.platform;
  const configPath = opts.path ? path.resolve(cwd, opts.path) : defaultConfigPath(env, isRoot, platform);

  let text: string | undefined;
  try {
    text = await fs.readFile(configPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new WaptError('IO_ERROR', `cannot read ${configPath}: ${(err as Error).message}`, { cause: err });
    }
  }
  const asked = new Set<string>();
  const sections = text === undefined ? new Map<string, Section>() : readSections(text, configPath, asked);
  const global: Section = new TrackedSection(asked, sections.get('global') ?? []);
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    if (env[name]) global.set(key, { value: env[name]!, base: cwd, where: `environment ${name}`, origin: `environment ${name}` });
  }
  for (const [key, v] of Object.entries(opts.overrides ?? {})) {
    if (v !== undefined) global.set(key, { value: String(v), base: cwd, where: `command line (${key})`, origin: 'command line' });
  }
  // A dbdir given outside the ini must not be beaten by the ini's dbpath.
  if (global.get('dbdir')?.where.startsWith('[') === false) global.delete('dbpath');

  const g = new Reader(global);
  // Defaults are joined with the target platform's rules (win32 backslashes when testing for Windows).
  const pj = platform === 'win32' ? path.win32 : path;
  const configDir = pj.dirname(configPath);
  const dbPathKey = g.path('dbpath');
  const dbdir = g.path('dbdir') ?? (dbPathKey ? path.dirname(dbPathKey) : defaultDbdir(env, isRoot, platform));

  const repos: RepoConfig[] = [];
  const mainUrl = g.raw('repo_url');
  if (mainUrl) repos.push(repoConfig('global', parseUrl(mainUrl, 'repo_url'), g));
  const listed = parseList(g.raw('repositories'))?.filter(Boolean);
  const names = listed ?? [...sections.keys()].filter((n) => !NOT_REPOS.has(n) && sections.get(n)!.get('repo_url')?.value);
  for (const name of names) {
    const sec = sections.get(name);
    const url = sec?.get('repo_url');
    if (!sec || !url?.value) {
      throw new WaptError('CONFIG_INVALID', `[global] repositories names '${name}', which has no section with a repo_url in ${configPath}`, {
        detail: { section: name, key: 'repositories' },
      });
    }
    repos.push(repoConfig(name, parseUrl(url, 'repo_url'), new Reader(sec, g)));
  }
  repos.sort((a, b) => b.priority - a.priority); // stable: ties keep ini order

  const useHostPackages = g.bool('use_hostpackages', false);
  const hostSec = new Reader(sections.get('wapt-host') ?? new Map(), g);
  const hostUrlRaw = sections.get('wapt-host')?.get('repo_url');
  const mainRepo = repos.find((r) => r.name === 'global');
  const hostUrl = hostUrlRaw?.value ? parseUrl(hostUrlRaw, 'repo_url') : mainRepo && `${mainRepo.url}-host`;
  const hostRepo = useHostPackages && hostUrl ? repoConfig('wapt-host', hostUrl, hostSec) : null;

  const loglevelRaw = g.raw('loglevel');
  const loglevel = (loglevelRaw?.value.toLowerCase() ?? 'warning') as LogLevel;
  if (!['debug', 'info', 'warning', 'error', 'critical'].includes(loglevel)) {
    throw invalid(loglevelRaw!, 'loglevel', 'debug, info, warning, error or critical');
  }
  const archRaw = g.raw('architecture');
  if (archRaw && !/^[A-Za-z0-9_]+$/.test(archRaw.value)) throw invalid(archRaw, 'architecture', 'one word such as x64, x86, arm64');
  const rateRaw = g.raw('limit_rate');
  const maxAgeRaw = g.raw('index_max_age');
  const proxyRaw = g.raw('http_proxy');
  if (proxyRaw) parseUrl(proxyRaw, 'http_proxy');
  const uuidRaw = g.raw('host_uuid') ?? g.raw('uuid');

  const config: WaptConfig = {
    configPath,
    configFound: text !== undefined,
    configExplicit: opts.path !== undefined,
    origins: {},
    warnings: [],
    logFile: g.path('log_file'),
    isRoot,
    dbdir,
    dbPath: dbPathKey ?? pj.join(dbdir, 'waptdb.sqlite'),
    lockPath: pj.join(dbdir, 'wapt-get.lock'),
    cacheDir: g.path('cachedir') ?? pj.join(dbdir, 'cache'),
    trustedCertsDir: g.path('trusted_certs_dir') ?? g.path('public_certs_dir') ?? pj.join(configDir, 'ssl'),
    repos,
    useHostPackages,
    hostRepo,
    hostUuid: uuidRaw?.value ?? machineUuid(opts.machineIdPath ?? '/etc/machine-id'),
    hostProfiles: parseList(g.raw('host_profiles'))?.filter(Boolean) ?? [],
    httpProxy: proxyRaw?.value ?? null,
    useHttpProxyForRepo: g.bool('use_http_proxy_for_repo', false),
    maturities: parseMaturities(global.get('maturities')),
    locales: parseList(g.raw('locales'))?.filter(Boolean) ?? [],
    architecture: archRaw?.value ?? defaultArch(),
    timeoutMs: g.duration('timeout', 30_000),
    installTimeoutMs: g.duration('install_timeout', 3600_000),
    lockTimeoutMs: g.duration('lock_timeout', 60_000),
    limitRate: rateRaw ? parseRate(rateRaw, 'limit_rate') : null,
    maxParallelDownloads: maxParallelOf(g.str('max_parallel_downloads')),
    transferTimeoutMs: g.duration('transfer_timeout', 2 * 3600_000),
    lowSpeedLimit: g.raw('low_speed_limit') ? (parseRate(g.raw('low_speed_limit')!, 'low_speed_limit') ?? 0) : 1024,
    lowSpeedTimeMs: g.duration('low_speed_time', 60_000),
    indexMaxAgeMs: maxAgeRaw ? parseDuration(maxAgeRaw, 'index_max_age') || null : null,
    verifyCert: g.verifyCert(),
    clientCertificate: g.path('client_certificate'),
    clientPrivateKey: g.path('client_private_key'),
    privateKey: g.path('private_key'),
    personalCertificatePath: g.path('personal_certificate_path'),
    defaultPackagePrefix: g.str('default_package_prefix') ?? 'tis',
    defaultSourcesRoot: g.path('default_sources_root'),
    waptServer: g.str('wapt_server'),
    loglevel,
    userModeRoot: g.path('user_mode_root'),
    allowUnsignedIndex: g.bool('allow_unsigned_index', false),
    allowInsecureHttp: g.bool('allow_insecure_http', false),
    reportTimeoutMs: g.duration('report_timeout', 5_000),
    reportJitterMs: g.duration('report_jitter', 3_000),
    outboxMax: outboxMaxOf(g.str('outbox_max')),
    actionSignersDir: g.path('action_signers_dir'),
  };
  // After every read: a key nothing asked for is unknown.
  for (const [k, r] of global) config.origins[k] = r.origin;
  for (const [name, sec] of sections) if (name !== 'global') for (const [k, r] of sec) config.origins[`${name}.${k}`] = r.origin;
  if (opts.path !== undefined && text === undefined) config.warnings.push(`the config file ${configPath} does not exist (given with --config); using defaults`);
  config.warnings.push(...unknownKeys(sections, asked).map(unknownKeyWarning));
  return config;
}

/** max_parallel_downloads (issue 12 §4): 1 downloads one package at a time. */
function maxParallelOf(v: string | null): number {
  if (v === null) return 4;
  if (!/^\d{1,2}$/.test(v) || Number(v) < 1 || Number(v) > 32) {
    throw new WaptError('CONFIG_INVALID', `max_parallel_downloads = ${v}: a whole number from 1 to 32`, { detail: { key: 'max_parallel_downloads' } });
  }
  return Number(v);
}

/** ours (Fleet): how many unsent reports the outbox keeps (the newest always). */
function outboxMaxOf(v: string | null): number {
  if (v === null) return 50;
  if (!/^\d{1,5}$/.test(v) || Number(v) < 1) {
    throw new WaptError('CONFIG_INVALID', `outbox_max = ${v}: a whole number of reports, at least 1`, { detail: { key: 'outbox_max' } });
  }
  return Number(v);
}
