// Issue 11 §3: every hint names a real next step. Each remedy in ERROR_TABLE is read for
// what it tells the person to use — `wapt-get VERB --option`, an --option, an ini key, an
// environment variable — and each of those must exist. No literal `<placeholder>`.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_TABLE } from '../../src/errors.js';
import { commandEntries } from '../../src/cli/commands/index.js';
import type { CommandSpec } from '../../src/cli/command.js';
import { loadConfig } from '../../src/agent/config.js';
import { iniKeyOf } from '../../src/cli/commands/config.js';
import { runCli } from '../helpers/cli.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const GLOBAL_OPTIONS = ['--json', '--quiet', '--verbose', '--no-color', '--config', '--version', '--help'];

let specs: Map<string, CommandSpec>;
let allOptions: Set<string>;
let iniKeys: Set<string>;
let sourceText: string;

function longFlags(flags: string): string[] {
  return flags
    .split(/[ ,|]+/)
    .filter((f) => f.startsWith('--'))
    .map((f) => f.replace(/[<[].*$/, ''));
}

function readTree(dir: string): string {
  return readdirSync(dir)
    .map((n) => path.join(dir, n))
    .map((p) => (statSync(p).isDirectory() ? readTree(p) : p.endsWith('.ts') ? readFileSync(p, 'utf8') : ''))
    .join('\n');
}

beforeAll(async () => {
  specs = new Map();
  for (const e of commandEntries) {
    const spec = await e.load();
    for (const n of [spec.name, ...(spec.aliases ?? [])]) specs.set(n, spec);
  }
  allOptions = new Set(GLOBAL_OPTIONS);
  for (const s of specs.values()) for (const o of s.options ?? []) for (const f of longFlags(o.flags)) allOptions.add(f);
  // every key the loader knows: the settled fields, plus per-repository keys
  const cfg = await loadConfig({ path: '/nonexistent/wapt-get.ini', env: {}, isRoot: true });
  iniKeys = new Set(Object.keys(cfg).map(iniKeyOf));
  for (const k of [
    'repo_url',
    'verify_cert',
    'priority',
    'allow_insecure_http',
    'allow_unsigned_index',
    'timeout',
    'trusted_certs_dir',
    'repository_id',
    'index_signer',
    'index_freshness_signer',
  ])
    iniKeys.add(k);
  sourceText = readTree(SRC);
});

const codes = Object.keys(ERROR_TABLE) as (keyof typeof ERROR_TABLE)[];

describe('every hint names a real next step', () => {
  it.each(codes)('%s', (code) => {
    const remedy: string = ERROR_TABLE[code].remedy;
    expect(remedy).not.toMatch(/<[a-z][^>]*>/); // no literal `wapt-get help <command>`
    // `wapt-get VERB …`: a registered verb, and its --options are that verb's (or global)
    for (const m of remedy.replace(/`wapt-get help ([a-z-]+)`/g, '`wapt-get $1 --help`').matchAll(/`wapt-get ([a-z][a-z-]*)([^`]*)`/g)) {
      const spec = specs.get(m[1]!);
      expect({ code, verb: m[1], exists: Boolean(spec) }).toEqual({ code, verb: m[1], exists: true });
      const own = new Set([...GLOBAL_OPTIONS, ...(spec!.options ?? []).flatMap((o) => longFlags(o.flags))]);
      for (const opt of m[2]!.match(/--[a-z][a-z-]*/g) ?? [])
        expect({ code, verb: m[1], option: opt, exists: own.has(opt) }).toEqual({ code, verb: m[1], option: opt, exists: true });
    }
    // any other --option: some verb has it
    for (const opt of remedy.replace(/`wapt-get [^`]*`/g, '').match(/--[a-z][a-z-]*/g) ?? []) {
      expect({ code, option: opt, exists: allOptions.has(opt) }).toEqual({ code, option: opt, exists: true });
    }
    // ini keys: `key=…`, `key in wapt-get.ini`, `set key`, `raise key`
    for (const m of remedy.matchAll(
      /\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?=\s*=|\s+in wapt-get\.ini|\s+of wapt-get\.ini)|\b(?:set|raise|check) ([a-z]+_[a-z_]+)/g,
    )) {
      const key = m[1] ?? m[2]!;
      expect({ code, key, known: iniKeys.has(key) }).toEqual({ code, key, known: true });
    }
    // environment variables: read somewhere in src/
    for (const env of remedy.match(/\bWAPT_[A-Z_]+\b/g) ?? []) {
      expect({ code, env, read: sourceText.includes(`'${env}'`) || sourceText.includes(`env.${env}`) }).toEqual({ code, env, read: true });
    }
  });

  it('the known bad hints are fixed: install has no --trusted, port in use is not IO_ERROR', () => {
    expect(ERROR_TABLE.SIGNER_UNTRUSTED.remedy).not.toContain('--trusted');
    expect(ERROR_TABLE.ADDRESS_IN_USE.remedy).toContain('`serve --port`');
    expect(ERROR_TABLE.USAGE.remedy).not.toContain('<command>');
  });
});

describe('hints through the real binary', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wapt-hints-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('a wrong CA password names the CA password (WAPT_CA_PASSWORD), not WAPT_KEY_PASSWORD', async () => {
    const env = { WAPT_KEY_PASSWORD: 'the right one', WAPT_GET_CONFIG: path.join(tmp, 'none.ini') };
    const ca = await runCli(['--json', 'create-ca', '--cn', 'Hint CA', '--out-dir', path.join(tmp, 'ca')], { env });
    expect(ca.code).toBe(0);
    const { key_path: caKey, cert_path: caCert } = JSON.parse(ca.stdout) as Record<string, string>;
    const r = await runCli(['create-keycert', '--cn', 'x', '--out-dir', path.join(tmp, 'leaf'), '--ca-cert', caCert!, '--ca-key', caKey!, '--no-password'], {
      env: { ...env, WAPT_KEY_PASSWORD: undefined, WAPT_CA_PASSWORD: 'a wrong one' },
    });
    expect(r.code).toBe(9);
    expect(r.stderr).toMatch(/^wapt-get: error \[KEY_PASSWORD_WRONG\]/);
    expect(r.stderr).toMatch(/^ {2}hint: give the CA key's password: --ca-password-file FILE, WAPT_CA_PASSWORD/m);
    expect(r.stderr).not.toContain('WAPT_KEY_PASSWORD');
  });

  it('a port in use is ADDRESS_IN_USE with a hint about serve --port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as AddressInfo).port;
      mkdirSync(path.join(tmp, 'repo'), { recursive: true });
      const r = await runCli([
        '-c',
        path.join(tmp, 'none.ini'),
        'serve',
        '--repo',
        path.join(tmp, 'repo'),
        '--port',
        String(port),
        '--tls-dir',
        path.join(tmp, 'tls'),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`wapt-get: error [ADDRESS_IN_USE] 127.0.0.1:${port} is already in use`);
      expect(r.stderr).toContain('hint: another program listens there: choose another `serve --port`');
    } finally {
      blocker.close();
    }
  });
});

test('JSON keys are snake_case: the create-ca / create-keycert summary too (one convention, README "JSON output")', async () => {
  const { runCli } = await import('../helpers/cli.js');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'wapt-snake-'));
  const ca = await runCli(['--json', 'create-ca', '--cn', 'Snake CA', '--out-dir', dir, '--no-password', '--key-size', '2048']);
  expect(ca.code).toBe(0);
  const keys = Object.keys(JSON.parse(ca.stdout));
  expect(keys).toEqual(expect.arrayContaining(['common_name', 'key_path', 'cert_path', 'not_before', 'not_after', 'is_ca', 'code_signing']));
  expect(keys.filter((k) => /[A-Z]/.test(k))).toEqual([]);
});
