// update-package-sources: run a package's update_package() hook (X1) in its SOURCE
// directory, so it can fetch the latest upstream installer (h.download checks the
// vendor's sha256) and say the new version, which is written into WAPT/control here,
// through the package room's validated control editor. A failing hook changes nothing
// we write; h.download itself never leaves a partial or unverified file.
import { cp, mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { WaptError } from '../errors.js';
import { editSourceControl, field, parseVersion, readControlFile } from '../package/index.js';
import { runHook } from './hooks/runner.js';

export interface UpdateSourcesOptions {
  timeoutMs: number;
  /** Run against a private copy and report the version it would set; the directory is not touched. */
  dryRun: boolean;
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
}

export interface UpdateSourcesResult {
  package: string;
  from_version: string;
  version: string;
  changed: boolean;
  output: string;
}

export async function updatePackageSources(dir: string, opts: UpdateSourcesOptions): Promise<UpdateSourcesResult> {
  const control = await readControlFile(dir);
  if (!existsSync(join(dir, 'setup.mjs'))) {
    throw new WaptError('USAGE', `${dir} has no setup.mjs: update-package-sources runs its update_package() hook`, { detail: { dir } });
  }
  let work = dir;
  let scratch: string | null = null;
  if (opts.dryRun) {
    scratch = await mkdtemp(join(tmpdir(), 'wapt-get-sources-'));
    await chmod(scratch, 0o700);
    work = join(scratch, 'src');
    await cp(dir, work, { recursive: true });
  }
  try {
    const fromVersion = field(control, 'version');
    const outcome = await runHook({
      setupPath: join(work, 'setup.mjs'),
      hook: 'update_package',
      timeoutMs: opts.timeoutMs,
      onOutput: opts.onOutput,
      ctx: {
        package: field(control, 'package'),
        version: fromVersion,
        control: Object.fromEntries(control),
        params: {},
        targetRoot: work,
        packageDir: work,
        persistent: {},
        os: process.platform,
        arch: process.arch,
      },
    });
    if (outcome.status === 'missing-hook') {
      throw new WaptError('USAGE', `${dir}/setup.mjs exports no update_package() hook`, { detail: { dir } });
    }
    const res = (outcome.result ?? {}) as { version?: unknown };
    let version = fromVersion;
    if (res.version !== undefined) {
      if (typeof res.version !== 'string') throw new WaptError('VERSION_INVALID', 'update_package() returned a version that is not a string');
      parseVersion(res.version);
      version = res.version;
    }
    if (version !== fromVersion) {
      await editSourceControl(work, (c) => {
        c.set('version', version);
        return c;
      });
    }
    return { package: field(control, 'package'), from_version: fromVersion, version, changed: version !== fromVersion, output: outcome.output };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
