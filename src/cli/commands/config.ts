// `wapt-get config`: the configuration as settled (file, environment, command line,
// defaults) and where each value came from, so a WAPT-made ini that reads differently
// than intended shows it at once.
import type { RepoConfig, WaptConfig } from '../../agent/index.js';
import type { CommandSpec } from '../command.js';
import { configOf } from '../context.js';

/** WaptConfig fields whose ini key is not their snake_case name. */
const KEY_OF: Record<string, string> = { dbPath: 'dbpath', cacheDir: 'cachedir', useHostPackages: 'use_hostpackages' };
/** Not settings: facts about the run, or shown in their own part. */
const SKIP = new Set(['configPath', 'configFound', 'configExplicit', 'origins', 'warnings', 'repos', 'hostRepo', 'isRoot', 'lockPath']);

/** `installTimeoutMs` → `install_timeout` (durations are held in ms, written in the ini in seconds). */
export function iniKeyOf(field: string): string {
  return KEY_OF[field] ?? field.replace(/Ms$/, '').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export interface Setting {
  key: string;
  value: unknown;
  origin: string;
}

function originOf(cfg: WaptConfig, key: string): string {
  return cfg.origins[key] ?? (key === 'host_uuid' && !cfg.origins.uuid ? 'default (/etc/machine-id)' : (cfg.origins[aliasOf(key)] ?? 'default'));
}

/** WAPT's older key names that set the same value. */
function aliasOf(key: string): string {
  return ({ host_uuid: 'uuid', trusted_certs_dir: 'public_certs_dir', dbdir: 'dbpath' } as Record<string, string>)[key] ?? key;
}

export function settingsOf(cfg: WaptConfig): Setting[] {
  const out: Setting[] = [];
  for (const [field, value] of Object.entries(cfg)) {
    if (SKIP.has(field)) continue;
    const key = iniKeyOf(field);
    out.push({ key, value: field.endsWith('Ms') && typeof value === 'number' ? value / 1000 : value, origin: originOf(cfg, key) });
  }
  return out;
}

function repoJson(cfg: WaptConfig, r: RepoConfig) {
  const prefix = r.name === 'global' ? '' : `${r.name}.`;
  return {
    name: r.name,
    url: r.url,
    priority: r.priority,
    verify_cert: r.verifyCert,
    http_proxy: r.httpProxy,
    timeout_ms: r.timeoutMs,
    allow_unsigned_index: r.allowUnsignedIndex,
    origin: cfg.origins[`${prefix}repo_url`] ?? 'command line',
  };
}

function show(value: unknown): string {
  if (value === null) return '(none)';
  if (Array.isArray(value)) return value.length === 0 ? '(any)' : value.map((v) => (v === '' ? "''" : String(v))).join(',');
  return String(value);
}

export const command: CommandSpec = {
  name: 'config',
  summary: 'print the effective configuration and where each value came from (file:line, environment, default)',
  help: 'Environment: WAPT_GET_CONFIG (the ini), WAPT_GET_DBDIR, WAPT_GET_CACHEDIR, WAPT_GET_TRUSTED, WAPT_GET_USER_ROOT.',
  async run(ctx) {
    const cfg = await configOf(ctx);
    const settings = settingsOf(cfg);
    const repositories = cfg.repos.map((r) => repoJson(cfg, r));
    const hostRepo = cfg.hostRepo ? repoJson(cfg, cfg.hostRepo) : null;
    ctx.out.result(
      {
        config_path: cfg.configPath,
        config_found: cfg.configFound,
        is_root: cfg.isRoot,
        settings,
        repositories,
        host_repository: hostRepo,
        warnings: cfg.warnings,
      },
      () => {
        const width = Math.max(...settings.map((s) => s.key.length));
        return [
          `# ${cfg.configPath}${cfg.configFound ? '' : ' (does not exist: defaults)'}`,
          ...repositories.map((r) => `repository ${r.name} = ${r.url}  (priority ${r.priority}, verify_cert ${show(r.verify_cert)})  # ${r.origin}`),
          ...(hostRepo ? [`host repository = ${hostRepo.url}  # ${hostRepo.origin}`] : []),
          ...settings.map((s) => `${s.key.padEnd(width)} = ${show(s.value)}  # ${s.origin}`),
        ];
      },
    );
  },
};
