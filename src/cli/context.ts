// What commands share at the edge: the config resolved once, the trust store,
// signer paths with config fallbacks.
import { resolve } from 'node:path';
// Heavy rooms are imported on first use so `wapt-get --version` starts fast.
import type { WaptConfig } from '../agent/index.js';
import type { TrustStore } from '../crypto/index.js';
import type { CommandContext, CommandOptions } from './command.js';
import { LogFile } from './log-file.js';
import type { SignerPaths } from './signing-key.js';

const configs = new WeakMap<CommandContext, Promise<WaptConfig>>();
const warned = new WeakSet<CommandContext>();
const logFiles = new WeakMap<CommandContext, LogFile>();

/** The run's `log_file`, once a verb has loaded the config that names one. */
export function logFileOf(ctx: CommandContext): LogFile | undefined {
  return logFiles.get(ctx);
}

/** The config with command-line overrides; its warnings (unknown keys…) are printed once per run. */
export async function loadConfigFor(ctx: CommandContext, overrides: Record<string, string> = {}): Promise<WaptConfig> {
  const { loadConfig } = await import('../agent/index.js');
  const config = await loadConfig({ path: ctx.configPath, env: ctx.env, cwd: ctx.cwd, overrides });
  if (!warned.has(ctx)) {
    warned.add(ctx);
    for (const w of config.warnings) ctx.out.warn(w);
    if (config.logFile) {
      const log = new LogFile(config.logFile);
      logFiles.set(ctx, log);
      process.once('exit', () => log.close());
    }
  }
  return config;
}

export function configOf(ctx: CommandContext): Promise<WaptConfig> {
  let p = configs.get(ctx);
  if (!p) {
    p = loadConfigFor(ctx);
    configs.set(ctx, p);
  }
  return p;
}

/** `--trusted DIR` wins; otherwise the config's trusted directory (ssl/ beside wapt-get.ini). */
export async function trustStoreFor(ctx: CommandContext, trustedFlag: string | undefined): Promise<TrustStore> {
  const dir = trustedFlag ? resolve(ctx.cwd, trustedFlag) : (await configOf(ctx)).trustedCertsDir;
  const { TrustStore } = await import('../crypto/index.js');
  return TrustStore.load(dir, { onWarning: (m) => ctx.out.warn(m) });
}

export async function signerPathsFrom(ctx: CommandContext, opts: CommandOptions): Promise<SignerPaths> {
  const fromEnv = { key: Boolean(ctx.env.WAPT_KEY_PEM), cert: Boolean(ctx.env.WAPT_CERT_PEM) };
  const needConfig = (!opts.key && !fromEnv.key) || (!opts.cert && !fromEnv.cert);
  const cfg = needConfig ? await configOf(ctx) : null;
  const abs = (p: string | null | undefined) => (p ? resolve(ctx.cwd, p) : undefined);
  return {
    key: abs(opts.key) ?? cfg?.privateKey ?? undefined,
    cert: abs(opts.cert) ?? cfg?.personalCertificatePath ?? undefined,
    passwordFile: abs(opts.passwordFile),
    keyFromFlag: Boolean(opts.key),
    certFromFlag: Boolean(opts.cert),
  };
}
