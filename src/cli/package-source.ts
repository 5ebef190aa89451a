// Where duplicate and edit get their package: a `.wapt` file (verified with --trusted or
// ours), or a requirement in a repository section of the ini, fetched from its index and
// verified with that section's own trusted_certs_dir (agent/upstream.ts).
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { WaptError } from '../errors.js';
import type { TrustStore } from '../crypto/index.js';
import type { CommandContext, CommandOptions, OptionSpec } from './command.js';
import { configOf, trustStoreFor } from './context.js';

export const SOURCE_OPTIONS: OptionSpec[] = [
  { flags: '--repo <section>', description: 'SOURCE is a requirement in this ini section (verified with its own trusted_certs_dir)' },
  { flags: '--trusted <dir>', description: 'for a SOURCE file: the trusted directory of whoever signed it (default: ours)' },
];

export interface PackageSource {
  file: string;
  trust: TrustStore;
  cleanup: () => Promise<void>;
}

/** Where a source is unpacked must be new or empty: nothing of the packager's is overwritten. */
export async function assertEmptyTarget(dir: string, option = '--source-dir'): Promise<void> {
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new WaptError('IO_ERROR', `${dir} already exists and is not empty; choose another ${option}`, { detail: { path: dir } });
  }
}

export async function openPackageSource(
  ctx: CommandContext,
  source: string,
  opts: CommandOptions,
  section = opts.repo as string | undefined,
): Promise<PackageSource> {
  if (section) {
    const cfg = await configOf(ctx);
    const repo = cfg.repos.find((r) => r.name === section);
    if (!repo) throw new WaptError('CONFIG_INVALID', `no repository section [${section}] in ${cfg.configPath}`, { detail: { section } });
    const { fetchFromUpstream } = await import('../agent/index.js');
    const got = await fetchFromUpstream(cfg, repo, source, ctx.env, ctx.out);
    return { file: got.path, trust: got.trust, cleanup: got.cleanup };
  }
  const file = resolve(ctx.cwd, source);
  if (!existsSync(file)) throw new WaptError('IO_ERROR', `${file} does not exist (give a .wapt file, or --repo SECTION with a package name)`);
  return { file, trust: await trustStoreFor(ctx, opts.trusted), cleanup: async () => {} };
}
