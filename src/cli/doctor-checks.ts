// The checks of `wapt-get doctor`, each one line: config found and parsed, trusted
// directory, each repository (reachable, TLS mode, clock skew from its Date header),
// each stored index (age, expiry), the DB and the lock. Read-only: nothing is written.
import { existsSync, readFileSync } from 'node:fs';
import type { RepoConfig, WaptConfig } from '../agent/index.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  check: string;
  status: CheckStatus;
  message: string;
  detail?: Record<string, unknown>;
}

/** More than this between our clock and a server's is a problem: certificates and index expiry depend on it. */
const MAX_SKEW_S = 300;

export function configCheck(cfg: WaptConfig): Check[] {
  const out: Check[] = [];
  if (!cfg.configFound) {
    out.push({ check: 'config', status: 'fail', message: `${cfg.configPath} does not exist`, detail: { path: cfg.configPath } });
  } else {
    out.push({ check: 'config', status: 'ok', message: `${cfg.configPath} parsed: ${cfg.repos.length} repositories`, detail: { path: cfg.configPath } });
  }
  for (const w of cfg.warnings) out.push({ check: 'config', status: 'warn', message: w });
  if (cfg.repos.length === 0) out.push({ check: 'repositories', status: 'fail', message: 'no repository is configured: set repo_url' });
  return out;
}

export async function trustCheck(cfg: WaptConfig): Promise<Check> {
  const { TrustStore } = await import('../crypto/index.js');
  const dir = cfg.trustedCertsDir;
  if (!existsSync(dir)) return { check: 'trusted', status: 'fail', message: `${dir} does not exist: no package can be trusted`, detail: { dir } };
  const warnings: string[] = [];
  try {
    const store = await TrustStore.load(dir, { onWarning: (m) => warnings.push(m) });
    const n = store.certificates.length;
    const detail = { dir, certificates: n, crls: store.crlCount, warnings };
    if (n === 0) return { check: 'trusted', status: 'fail', message: `${dir} holds no certificate: no package can be trusted`, detail };
    const what = `${dir}: ${n} certificate${n === 1 ? '' : 's'}, ${store.crlCount} CRL${store.crlCount === 1 ? '' : 's'}`;
    return { check: 'trusted', status: warnings.length ? 'warn' : 'ok', message: warnings.length ? `${what}; ${warnings.join('; ')}` : what, detail };
  } catch (err) {
    return { check: 'trusted', status: 'fail', message: `${dir}: ${(err as Error).message}`, detail: { dir } };
  }
}

function tlsMode(cfg: WaptConfig, repo: RepoConfig): string {
  if (repo.url.startsWith('file:')) return 'local files';
  if (repo.url.startsWith('http:')) return 'plain HTTP (no TLS)';
  if (repo.verifyCert === false) return 'TLS NOT VERIFIED (verify_cert = 0)';
  if (repo.verifyCert === true) return 'TLS, system CAs';
  try {
    const pem = readFileSync(repo.verifyCert, 'latin1');
    const count = (pem.match(/BEGIN CERTIFICATE/g) ?? []).length;
    return count === 1 ? `TLS, CA or pinned certificate ${repo.verifyCert}` : `TLS, CA bundle ${repo.verifyCert} (${count} certificates)`;
  } catch {
    return `TLS, verify_cert ${repo.verifyCert} (unreadable)`;
  }
}

export async function repoCheck(cfg: WaptConfig, repo: RepoConfig, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const mode = tlsMode(cfg, repo);
  const url = `${repo.url}/Packages`;
  const insecure = repo.verifyCert === false && repo.url.startsWith('https:');
  if (repo.url.startsWith('file:')) {
    const ok = existsSync(new URL(url));
    return [
      { check: `repo ${repo.name}`, status: ok ? 'ok' : 'fail', message: `${url} ${ok ? 'exists' : 'does not exist'} (${mode})`, detail: { url, tls: mode } },
    ];
  }
  const { httpOptionsForRepo } = await import('../agent/index.js');
  const { HttpClient } = await import('../repo/index.js');
  const silent = { info: () => {}, warn: () => {}, debug: () => {} };
  const client = new HttpClient({ ...httpOptionsForRepo(cfg, repo, env, silent), retries: 0 });
  const sentAt = Date.now();
  try {
    const res = await client.head(url);
    const out: Check[] = [];
    const ok = res.status >= 200 && res.status < 300;
    out.push({
      check: `repo ${repo.name}`,
      status: !ok ? 'fail' : insecure ? 'warn' : 'ok',
      message: `${url}: HTTP ${res.status} (${mode})`,
      detail: { url, status: res.status, tls: mode },
    });
    const date = res.headers.date ? Date.parse(res.headers.date) : NaN;
    if (Number.isNaN(date)) {
      out.push({ check: `clock ${repo.name}`, status: 'warn', message: `${repo.name} sent no Date header: clock skew unknown` });
    } else {
      // the server's second is somewhere within our request: compare with its middle
      const skew = Math.round(((sentAt + Date.now()) / 2 - date) / 1000);
      const bad = Math.abs(skew) > MAX_SKEW_S;
      out.push({
        check: `clock ${repo.name}`,
        status: bad ? 'fail' : 'ok',
        message: `local clock is ${Math.abs(skew)} s ${skew >= 0 ? 'ahead of' : 'behind'} ${repo.name}'s${bad ? ` (over ${MAX_SKEW_S} s: fix the clock)` : ''}`,
        detail: { skew_s: skew },
      });
    }
    return out;
  } catch (err) {
    const { asWaptError } = await import('../errors.js');
    const we = asWaptError(err);
    return [{ check: `repo ${repo.name}`, status: 'fail', message: `${url}: [${we.code}] ${we.message} (${mode})`, detail: { url, code: we.code, tls: mode } }];
  } finally {
    await client.close();
  }
}

export async function stateChecks(cfg: WaptConfig): Promise<Check[]> {
  const out: Check[] = [];
  const { openDb, indexHealth, isPidAlive } = await import('../agent/index.js');
  if (!existsSync(cfg.dbPath)) {
    out.push({ check: 'db', status: 'warn', message: `${cfg.dbPath} does not exist yet: run \`wapt-get update\``, detail: { path: cfg.dbPath } });
    for (const r of cfg.repos) out.push({ check: `index ${r.name}`, status: 'fail', message: `the index of ${r.name} was never fetched` });
  } else {
    try {
      const db = await openDb(cfg.dbPath, {});
      const installed = db.installed.list();
      const broken = installed.filter((r) => r.install_status !== 'OK');
      out.push({
        check: 'db',
        status: broken.length ? 'warn' : 'ok',
        message: `${cfg.dbPath}: ${installed.length} installed${broken.length ? `, ${broken.length} not OK (${broken.map((r) => `${r.package} ${r.install_status}`).join(', ')})` : ''}`,
        detail: { path: cfg.dbPath, installed: installed.length, not_ok: broken.map((r) => r.package) },
      });
      for (const h of indexHealth(db, cfg))
        out.push({ check: `index ${h.repo}`, status: h.state === 'ok' ? 'ok' : 'fail', message: h.message, detail: { ...h } });
    } catch (err) {
      out.push({ check: 'db', status: 'fail', message: `${cfg.dbPath}: ${(err as Error).message}`, detail: { path: cfg.dbPath } });
    }
  }
  out.push(lockCheck(cfg.lockPath, isPidAlive));
  return out;
}

function lockCheck(file: string, alive: (pid: number) => boolean): Check {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    return { check: 'lock', status: 'ok', message: `${file}: free` };
  }
  let pid: number | undefined;
  try {
    pid = (JSON.parse(raw) as { pid?: number }).pid;
  } catch {
    /* unreadable: reported below */
  }
  if (typeof pid !== 'number') return { check: 'lock', status: 'warn', message: `${file} is unreadable: the next run replaces it` };
  return alive(pid)
    ? { check: 'lock', status: 'ok', message: `${file}: held by a running wapt-get (pid ${pid})`, detail: { pid } }
    : { check: 'lock', status: 'warn', message: `${file}: left by pid ${pid}, which is gone; the next run takes it over`, detail: { pid } };
}
