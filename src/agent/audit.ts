// `audit [NAME…]` (W-G2): runs each installed package's audit() hook from its stored
// setup.mjs and stores OK / WARNING / ERROR / UNKNOWN in last_audit_*. A package without
// an audit hook is judged by its install status (OK stays OK, ERROR is ERROR).
import { EXIT, WaptError, asWaptError } from '../errors.js';
import type { WaptConfig } from './config.js';
import type { AuditStatus, InstalledRow } from './db/index.js';
import { auditStatus, runHook } from './hooks/runner.js';
import { withStoredHook } from './hooks/stored-hook.js';
import { withRuntime, type VerbIo, type VerbOptions } from './install/session.js';

export interface AuditResultRow {
  package: string;
  version: string;
  status: AuditStatus;
  output: string;
  error_code?: string;
}

async function auditOne(row: InstalledRow, dbPath: string, targetRoot: string, timeoutMs: number, opts: VerbOptions): Promise<AuditResultRow> {
  const base = { package: row.package, version: row.version };
  const byStatus = (): AuditResultRow => ({
    ...base,
    status: row.install_status === 'OK' ? 'OK' : row.install_status === 'ERROR' ? 'ERROR' : 'UNKNOWN',
    output: `no audit hook; install status ${row.install_status}`,
  });
  if (!row.setup_code) return byStatus();
  try {
    // issue 8 §6: from a private directory beside the DB, never a bare temp dir
    const outcome = await withStoredHook(dbPath, row.setup_code, ({ dir: tmp, setupPath }) =>
      runHook({
        setupPath,
        hook: 'audit',
        ctx: {
          package: row.package,
          version: row.version,
          control: { package: row.package, version: row.version, section: row.section, architecture: row.architecture },
          params: row.install_params,
          targetRoot,
          packageDir: tmp,
          persistent: row.uninstall_data && typeof row.uninstall_data === 'object' ? (row.uninstall_data as Record<string, unknown>) : {},
          os: process.platform,
          arch: process.arch,
        },
        timeoutMs,
        killGraceMs: opts.killGraceMs,
      }),
    );
    if (outcome.status === 'missing-hook') return byStatus();
    return { ...base, status: auditStatus(outcome.result), output: outcome.output };
  } catch (err) {
    const e = asWaptError(err);
    const out = typeof e.detail.output === 'string' ? e.detail.output : '';
    return { ...base, status: 'ERROR', output: `${out}[${e.code}] ${e.message}`, error_code: e.code };
  }
}

/** Exit 0 when nothing audits ERROR, 1 (FAILURE) otherwise. Audits need no special rights. */
export async function auditVerb(config: WaptConfig, io: VerbIo, names: string[], opts: VerbOptions): Promise<{ results: AuditResultRow[]; exitCode: number }> {
  return withRuntime(config, io, { write: !opts.dryRun, lockTimeoutMs: opts.lockTimeoutMs }, async (rt) => {
    const all = rt.db.installed.list();
    const rows =
      names.length === 0
        ? all
        : names.map((n) => {
            const r = all.find((x) => x.package === n);
            if (!r) throw new WaptError('NOT_INSTALLED', `${n} is not installed`, { detail: { package: n } });
            return r;
          });
    const targetRoot = rt.config.userModeRoot ?? '/';
    const results: AuditResultRow[] = [];
    for (const [i, row] of rows.entries()) {
      io.log.info(`[${i + 1}/${rows.length}] auditing ${row.package} ${row.version}`);
      if (opts.dryRun) continue;
      const r = await auditOne(row, rt.db.path, targetRoot, rt.config.installTimeoutMs, opts);
      rt.db.installed.setStatus(row.package, row.install_status, {
        last_audit_status: r.status,
        last_audit_on: new Date().toISOString(),
        last_audit_output: r.output,
      });
      await rt.db.persist();
      results.push(r);
    }
    return { results, exitCode: results.some((r) => r.status === 'ERROR') ? EXIT.FAILURE : EXIT.OK };
  });
}
