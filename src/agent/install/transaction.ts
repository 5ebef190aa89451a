// One package's install transaction (W-G1, W-G2, X1):
//   free space → extract to a fresh temp dir (guards) → row RUNNING + pid, PERSISTED →
//   setup.mjs install() in a child with a timeout → row OK (or ERROR + code + output).
// The row is durable before any package code runs, so a kill -9 at any point leaves
// either the previous state or a RUNNING row that the next run resolves (recover.ts).
import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { asWaptError } from '../../errors.js';
import { extractPackage, field, type PackageZip, type VerifiedPackage } from '../../package/index.js';
import type { InstalledInput, WaptDb } from '../db/index.js';
import { assertRunnable, findSetup, runHook } from '../hooks/runner.js';
import type { PlanStep } from '../resolver/index.js';
import { HOOK_PGID_FILE, TEMP_PREFIX } from './recover.js';
import { assertFreeSpace } from './rights.js';
import { reserveDbSpace, type DbReserve } from './db-reserve.js';

export interface TransactionDeps {
  db: WaptDb;
  targetRoot: string;
  timeoutMs: number;
  /** Recorded as explicit_by for requested packages (os.userInfo().username). */
  user: string;
  params?: Record<string, unknown>;
  /** Parent of the per-install temp dir (default os.tmpdir()). */
  tmpRoot?: string;
  /** Refuse extraction beyond this many bytes (ERR_OUT_OF_SPACE), on top of the statfs check. */
  maxExtractBytes?: number;
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  killGraceMs?: number;
}

export interface StepResult {
  package: string;
  version: string;
  action: PlanStep['action'] | 'forget';
  status: 'OK' | 'ERROR' | 'REMOVED' | 'DOWNLOADED';
  error_code?: string;
  message?: string;
}

/** "dependency of tis-a" → tis-a (the resolver's reason text for pulled-in packages). */
function dependsByOf(step: PlanStep): string | null {
  const m = /^dependency of (\S+)/.exec(step.reason);
  return m ? m[1]! : null;
}

/** Columns that come from the package's control. */
function controlColumns(v: VerifiedPackage, file: string, repo: string | null): Partial<InstalledInput> {
  const c = v.control;
  return {
    architecture: field(c, 'architecture') || 'all',
    section: field(c, 'section') || 'base',
    priority: field(c, 'priority') || 'optional',
    maturity: field(c, 'maturity'),
    locale: field(c, 'locale'),
    package_uuid: field(c, 'package_uuid') || null,
    signer_fingerprint: v.signerFingerprint,
    filename: path.basename(file),
    repo,
  };
}

/** Records a failure of `step` (before or during install) so the next upgrade retries it. */
export async function recordFailure(
  db: WaptDb,
  step: PlanStep,
  user: string,
  err: unknown,
  extra: Partial<InstalledInput> = {},
  persist: () => Promise<void> = () => db.persist(),
): Promise<StepResult> {
  const e = asWaptError(err);
  const version = step.toVersion ?? step.fromVersion ?? '0';
  const prev = db.installed.get(step.package);
  const output = typeof e.detail.output === 'string' && e.detail.output !== '' ? `${e.detail.output}\n` : '';
  db.transaction(() => {
    db.installed.upsert({
      package: step.package,
      version,
      explicit_by: step.explicit ? (prev?.explicit_by ?? user) : (prev?.explicit_by ?? null),
      depends_by: prev?.depends_by ?? dependsByOf(step),
      ...extra,
      install_status: 'ERROR',
      pending_action: null,
      error_code: e.code,
      install_output: `${output}[${e.code}] ${e.message}`,
      pid: null,
    });
    db.log.append('error', `${step.action} ${step.package} ${version} failed: [${e.code}] ${e.message}`, step.package);
  });
  await persist();
  return { package: step.package, version, action: step.action, status: 'ERROR', error_code: e.code, message: e.message };
}

/**
 * Installs (or upgrades / reinstalls) one verified package. `zip` is the open handle whose
 * bytes were verified (issue 8 §5): extraction reads that handle, never the path again, so
 * a file swapped after verification is not what runs. The caller closes it. Never throws
 * for package failures.
 */
export async function installPackage(step: PlanStep, zip: PackageZip, verified: VerifiedPackage, deps: TransactionDeps): Promise<StepResult> {
  const { db } = deps;
  const file = zip.path;
  const name = step.package;
  const version = verified.version;
  const prev = db.installed.get(name);
  const fromControl = controlColumns(verified, file, step.candidate?.repo ?? null);
  let tmp: string | undefined;
  let setupCode: string | null = null;
  let reserve: DbReserve | undefined;
  // before: nothing ran; running: package code may have run; recording: the hook finished
  let phase: 'before' | 'running' | 'recording' = 'before';
  try {
    // the pid in the name lets the next run sweep what a killed run left (recover.ts)
    tmp = await mkdtemp(path.join(deps.tmpRoot ?? os.tmpdir(), `${TEMP_PREFIX}${process.pid}-`));
    const pkgDir = path.join(tmp, 'pkg');
    const declared = zip.members.reduce((n, m) => n + m.uncompressedSize, 0);
    await assertFreeSpace(tmp, declared, `extracting ${path.basename(file)}`);
    await extractPackage(zip, pkgDir, { maxTotalBytes: deps.maxExtractBytes });
    // W-D5: the file verify counted as code, found by the same member identity (SETUP.MJS too)
    const { kind, path: setupPath } = await findSetup(pkgDir);
    if (kind === 'mjs') setupCode = await readFile(setupPath!, 'utf8');
    const persistent = prev && prev.uninstall_data && typeof prev.uninstall_data === 'object' ? (prev.uninstall_data as Record<string, unknown>) : {};
    // Room for the write that records the outcome, even if the hook fills the disk (DB_ERROR if none).
    reserve = await reserveDbSpace(db);
    // Durable before any package code runs: a crash from here on leaves RUNNING + our pid.
    db.transaction(() => {
      db.installed.upsert({
        package: name,
        version,
        ...fromControl,
        explicit_by: step.explicit ? (prev?.explicit_by ?? deps.user) : (prev?.explicit_by ?? null),
        depends_by: prev?.depends_by ?? dependsByOf(step),
        install_status: 'RUNNING',
        pending_action: null, // an install (even over a pending removal) is the admin's intent now
        install_params: deps.params ?? {},
        error_code: null,
        install_output: '',
        pid: process.pid,
        // the new code, so remove can undo even a half-done install
        setup_code: setupCode ?? prev?.setup_code ?? null,
      });
      db.log.append('info', `${step.action} ${name} ${version} started (pid ${process.pid})`, name);
    });
    await db.persist();
    phase = 'running';
    assertRunnable(kind, name); // W-D5/X1: setup.py is never run → SETUP_PY_UNSUPPORTED
    let output = '';
    let uninstall: unknown = prev?.uninstall_data ?? null;
    if (kind === 'mjs') {
      const outcome = await runHook({
        setupPath: setupPath!,
        hook: 'install',
        ctx: {
          package: name,
          version,
          control: Object.fromEntries(verified.control),
          params: deps.params ?? {},
          targetRoot: deps.targetRoot,
          packageDir: pkgDir,
          persistent,
          os: process.platform,
          arch: process.arch,
        },
        timeoutMs: deps.timeoutMs,
        onOutput: deps.onOutput,
        killGraceMs: deps.killGraceMs,
        // A kill -9 of this run skips every cleanup: leave the hook's process group where
        // the next run's sweep finds it, so an orphaned hook does not run on for ever.
        onSpawn: (pid) => writeFileSync(path.join(tmp!, HOOK_PGID_FILE), String(pid)),
      });
      output = outcome.output;
      uninstall = outcome.persistent;
    }
    db.transaction(() => {
      db.installed.setStatus(name, 'OK', {
        version,
        install_date: new Date().toISOString(),
        install_output: output,
        uninstall_data: uninstall,
        setup_code: setupCode,
        error_code: null,
        pid: null,
      });
      db.log.append('info', `${step.action} ${name} ${version} OK`, name);
    });
    phase = 'recording';
    await reserve.persist();
    return { package: name, version, action: step.action, status: 'OK' };
  } catch (err) {
    const e = asWaptError(err);
    const failed = (message: string, code = e.code): StepResult => ({
      package: name,
      version,
      action: step.action,
      status: 'ERROR',
      error_code: code,
      message,
    });
    if (e.code === 'DB_ERROR' && phase === 'before') {
      // Nothing ran and the disk still holds the previous state: so must memory.
      db.transaction(() => (prev ? db.installed.upsert(prev) : db.installed.remove(name)));
      return failed(`${e.message}; ${name} was not installed (no package code ran)`);
    }
    if (e.code === 'DB_ERROR' && phase === 'recording') {
      return failed(
        `${e.message}; the install hook of ${name} finished but could not be recorded: the DB still says RUNNING (the next run marks it interrupted)`,
      );
    }
    // what a failing hook remember()ed is what its uninstall needs
    const persistent = e.detail.persistent;
    const extra = {
      ...fromControl,
      ...(setupCode !== null ? { setup_code: setupCode } : {}),
      ...(persistent && typeof persistent === 'object' ? { uninstall_data: persistent } : {}),
    };
    try {
      // awaited here, not returned: a rejection must not wait unhandled while `finally` runs
      return await recordFailure(db, { ...step, toVersion: version }, deps.user, e, extra, reserve ? () => reserve!.persist() : undefined);
    } catch (recordErr) {
      const r = asWaptError(recordErr);
      const still = phase === 'before' ? 'nothing ran' : 'the DB still says RUNNING (the next run marks it interrupted)';
      return failed(`${r.message}; ${name} failed with [${e.code}] ${e.message}, which could not be recorded: ${still}`, r.code);
    }
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}
