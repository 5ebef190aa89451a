// `session-setup [NAME…]`: each installed package's session_setup() hook, once per user
// and package version (table session_setup). A failing hook is not recorded, so the next
// login tries again; a package without the hook is recorded as done.
import { EXIT, WaptError, asWaptError } from '../errors.js';
import type { WaptConfig } from './config.js';
import { runHook } from './hooks/runner.js';
import { withStoredHook } from './hooks/stored-hook.js';
import { currentUser, withRuntime, type VerbIo, type VerbOptions } from './install/session.js';

export interface SessionResult {
  package: string;
  version: string;
  status: 'DONE' | 'ALREADY_DONE' | 'NO_HOOK' | 'ERROR';
  error_code?: string;
  message?: string;
}

export async function sessionSetupVerb(
  config: WaptConfig,
  io: VerbIo,
  names: string[],
  opts: VerbOptions & { user?: string },
): Promise<{ user: string; results: SessionResult[]; exitCode: number }> {
  const user = opts.user ?? currentUser();
  return withRuntime(config, io, { write: !opts.dryRun, lockTimeoutMs: opts.lockTimeoutMs }, async (rt) => {
    const all = rt.db.installed.list().filter((r) => r.install_status === 'OK');
    for (const n of names)
      if (!all.some((r) => r.package === n)) throw new WaptError('NOT_INSTALLED', `${n} is not installed (status OK)`, { detail: { package: n } });
    const rows = names.length === 0 ? all : all.filter((r) => names.includes(r.package));
    const results: SessionResult[] = [];
    for (const row of rows) {
      const base = { package: row.package, version: row.version };
      if (rt.db.sessions.get(user, row.package)?.version === row.version) {
        results.push({ ...base, status: 'ALREADY_DONE' });
        continue;
      }
      if (opts.dryRun) {
        results.push({ ...base, status: row.setup_code ? 'DONE' : 'NO_HOOK' });
        continue;
      }
      let status: SessionResult = { ...base, status: 'NO_HOOK' };
      if (row.setup_code) {
        try {
          // issue 8 §6: from a private directory beside the DB, never a bare temp dir
          const out = await withStoredHook(rt.db.path, row.setup_code, ({ dir: tmp, setupPath }) =>
            runHook({
              setupPath,
              hook: 'session_setup',
              ctx: {
                package: row.package,
                version: row.version,
                control: { package: row.package, version: row.version },
                params: row.install_params,
                targetRoot: rt.config.userModeRoot ?? '/',
                packageDir: tmp,
                persistent: row.uninstall_data && typeof row.uninstall_data === 'object' ? (row.uninstall_data as Record<string, unknown>) : {},
                os: process.platform,
                arch: process.arch,
                user,
              },
              timeoutMs: rt.config.installTimeoutMs,
              onOutput: io.output,
              killGraceMs: opts.killGraceMs,
            }),
          );
          status = { ...base, status: out.status === 'missing-hook' ? 'NO_HOOK' : 'DONE' };
        } catch (err) {
          const e = asWaptError(err);
          status = { ...base, status: 'ERROR', error_code: e.code, message: e.message };
        }
      }
      if (status.status !== 'ERROR') {
        rt.db.sessions.record(user, row.package, row.version);
        await rt.db.persist();
      } else {
        rt.db.log.append('error', `session_setup of ${row.package} for ${user} failed: [${status.error_code}] ${status.message}`, row.package);
        await rt.db.persist();
      }
      results.push(status);
    }
    return { user, results, exitCode: results.some((r) => r.status === 'ERROR') ? EXIT.INSTALL_FAILED : EXIT.OK };
  });
}
