// Issue 11 §2: wapt-get.ini is read with configparser's syntax (checked against Python's
// own configparser), unknown keys warn with a "did you mean", `wapt-get config` tells
// where each value came from, and a missing file / no repository / no usable index make
// check-upgrades and upgrade fail with stable codes instead of "up to date".
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseIni } from '../../src/agent/ini.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { cleanupPki } from '../helpers/pki.js';
import { runCli } from '../helpers/cli.js';

const WAPT_INI = `; written by WAPT's console
[DEFAULT]
timeout: 7

[global]
repo_url: https://repo.example.org/wapt
Verify_Cert = 0
# a comment line
  ; an indented comment line
maturities = PROD,
    PREPROD

locales=fr ,en
dnsdomain = example.org
description = a value ; with what looks like an inline comment

[backup]
repo_url = https://mirror.example.org/wapt
timeout = 3
`;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wapt-front-config-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = path.join(tmp, name);
  writeFileSync(p, text);
  return p;
}

/** Python's configparser (RawConfigParser, as WAPT reads wapt-get.ini): section → key → value. */
function pythonReads(file: string): Record<string, Record<string, string>> {
  const script = [
    'import configparser, json, sys',
    'c = configparser.RawConfigParser()',
    'c.read(sys.argv[1], encoding="utf-8")',
    'print(json.dumps({s: dict(c.items(s)) for s in c.sections()}))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as Record<string, Record<string, string>>;
}

describe('configparser syntax (W-G4)', () => {
  it('reads a WAPT-style ini exactly as Python configparser does (colon, continuation, comments, case, DEFAULT)', () => {
    const file = write('wapt.ini', WAPT_INI);
    const ours = parseIni(WAPT_INI, file);
    const mine: Record<string, Record<string, string>> = {};
    for (const [name, values] of ours.sections) mine[name] = Object.fromEntries([...values].map(([k, v]) => [k, v.value]));
    expect(mine).toEqual(pythonReads(file));
    expect(mine.global!.repo_url).toBe('https://repo.example.org/wapt');
    expect(mine.global!.maturities).toBe('PROD,\nPREPROD');
    expect(mine.global!.timeout).toBe('7');
    expect(ours.sections.get('global')!.get('repo_url')!.line).toBe(6);
  });

  it.each([
    ['a key outside any section', 'repo_url = https://x\n', /:1: key 'repo_url' is outside any \[section\]/],
    ['a line without = or :', '[global]\nrepo_url\n', /:2: cannot read/],
    ['a key twice', '[global]\nrepo_url = a\nREPO_URL = b\n', /:3: key 'repo_url' appears twice/],
    ['a section twice', '[global]\n[global]\n', /:2: section \[global\] appears twice/],
  ])('refuses %s like configparser, naming file:line', (_name, text, message) => {
    expect(() => parseIni(text, '/etc/wapt-get/wapt-get.ini')).toThrow(message);
  });
});

describe('wapt-get config', () => {
  it('shows the colon-style repo_url with its file:line, an environment value and defaults', async () => {
    const file = write('origins.ini', WAPT_INI);
    const r = await runCli(['--json', '-c', file, 'config'], { env: { WAPT_GET_CACHEDIR: '/srv/cache' } });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      repositories: { name: string; url: string; verify_cert: unknown; origin: string }[];
      settings: { key: string; value: unknown; origin: string }[];
    };
    expect(out.repositories[0]).toMatchObject({ name: 'global', url: 'https://repo.example.org/wapt', verify_cert: false, origin: `${file}:6` });
    const setting = (k: string) => out.settings.find((s) => s.key === k);
    expect(setting('cachedir')).toEqual({ key: 'cachedir', value: '/srv/cache', origin: 'environment WAPT_GET_CACHEDIR' });
    expect(setting('maturities')).toEqual({ key: 'maturities', value: ['PROD', 'PREPROD'], origin: `${file}:10` });
    expect(setting('timeout')).toEqual({ key: 'timeout', value: 7, origin: `${file}:3` });
    expect(setting('lock_timeout')).toEqual({ key: 'lock_timeout', value: 60, origin: 'default' });
  });

  it('warns about unknown keys with a "did you mean" (repo_ur, verfy_cert), naming file:line', async () => {
    const file = write('typos.ini', '[global]\nrepo_ur = https://x/wapt\nverfy_cert = 0\n');
    const r = await runCli(['-c', file, 'config']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning: unknown key 'repo_ur' in [global] (${file}:2) is ignored (did you mean repo_url?)`);
    expect(r.stderr).toContain(`warning: unknown key 'verfy_cert' in [global] (${file}:3) is ignored (did you mean verify_cert?)`);
  });
});

describe('nothing broken looks healthy', () => {
  it('--config missing.ini says the file does not exist (CONFIG_NOT_FOUND, exit 2)', async () => {
    const missing = path.join(tmp, 'missing.ini');
    for (const verb of ['update', 'check-upgrades', 'upgrade']) {
      const r = await runCli(['-c', missing, verb], { env: { WAPT_GET_DBDIR: path.join(tmp, 'db-missing') } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`wapt-get: error [CONFIG_NOT_FOUND] the config file ${missing} does not exist`);
    }
  });

  it('no repository configured: check-upgrades and upgrade fail with NO_REPOSITORY (exit 2), not "up to date"', async () => {
    const file = write('norepo.ini', `[global]\ndbdir = ${path.join(tmp, 'db-norepo')}\n`);
    for (const verb of ['check-upgrades', 'upgrade']) {
      const r = await runCli(['--json', '-c', file, verb]);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe('NO_REPOSITORY');
    }
  });
});

describe('with a real repository over HTTPS', () => {
  let w: AgentEnv;
  beforeAll(async () => {
    w = await makeAgentEnv();
    await w.publish({ name: 'tis-front', version: '1.0-1' });
  });
  afterAll(async () => {
    await w?.stop();
    if (w) cleanupPki(w.pki);
  });

  it('an index never fetched: check-upgrades and upgrade fail with INDEX_NEVER_FETCHED (exit 1); doctor fails', async () => {
    for (const verb of ['check-upgrades', 'upgrade']) {
      const r = await w.run([verb]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('wapt-get: error [INDEX_NEVER_FETCHED] the index of global was never fetched');
      expect(r.stderr).toContain('hint: run `wapt-get update` first');
    }
    const d = await w.run(['doctor']);
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(/^FAIL index global +the index of global was never fetched$/m);
  });

  it('doctor: every check one line, exit 0 on a healthy host (TLS mode, clock skew, index age, DB, lock)', async () => {
    expect((await w.run(['update'])).code).toBe(0);
    const r = await w.run(['doctor']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[lines.length - 1]).toBe('no problem found');
    expect(r.stdout).toMatch(new RegExp(`^ok {3}config +${w.configPath} parsed: 1 repositories$`, 'm'));
    expect(r.stdout).toMatch(/^ok {3}trusted +.*: \d+ certificates?, \d+ CRLs?$/m);
    expect(r.stdout).toMatch(/^ok {3}repo global +https:\/\/127\.0\.0\.1:\d+.*\/Packages: HTTP 200 \(TLS, CA or pinned certificate .*\)$/m);
    expect(r.stdout).toMatch(/^ok {3}clock global +local clock is \d+ s (ahead of|behind) global's$/m);
    expect(r.stdout).toMatch(/^ok {3}index global +global: 1 packages, fetched /m);
    expect(r.stdout).toMatch(/^ok {3}db +/m);
    expect(r.stdout).toMatch(/^ok {3}lock +.*: free$/m);
    const json = await w.run(['doctor'], { json: true });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, problems: 0 });
  });

  it('an expired stored index: check-upgrades exits 3 with INDEX_EXPIRED and doctor names it', async () => {
    const db = await w.db();
    const row = db.repos.get('global')!;
    db.repos.put({ ...row, index_expires: new Date(Date.now() - 3600_000).toISOString() });
    await db.persist();
    const r = await w.run(['check-upgrades'], { json: true });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'INDEX_EXPIRED', message: expect.stringContaining('the stored index of global expired on') });
    const d = await w.run(['doctor']);
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(/^FAIL index global +the stored index of global expired on /m);
  });

  it('doctor fails on a missing trusted directory and an unreachable repository, one line each', async () => {
    await w.configure({ trusted_certs_dir: path.join(w.dir, 'no-such-ssl'), repo_url: 'https://127.0.0.1:9/wapt' });
    try {
      const r = await w.run(['doctor']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^FAIL trusted +.*no-such-ssl does not exist: no package can be trusted$/m);
      expect(r.stdout).toMatch(/^FAIL repo global +https:\/\/127\.0\.0\.1:9\/wapt\/Packages: \[NETWORK_ERROR\]/m);
    } finally {
      await w.configure();
    }
  });
});
