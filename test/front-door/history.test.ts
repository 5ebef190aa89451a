// Issue 11 §3: seeing what happened. `history` lists each operation (when, what, result,
// error code, who); `show` and `history NAME` print the hook's output tail; piped runs keep
// hook output in the DB and in log_file (rotated); --quiet prints nothing when nothing changed.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogFile } from '../../src/cli/log-file.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { cleanupPki } from '../helpers/pki.js';

let w: AgentEnv;
let logFile: string;

const hook = (body: string) => `export async function install(h) { ${body} }\nexport async function uninstall(h) {}\n`;

beforeAll(async () => {
  w = await makeAgentEnv();
  logFile = path.join(w.dir, 'wapt-get.log');
  await w.configure({ log_file: logFile });
  await w.publish(
    { name: 'tis-talks', version: '1.0-1', setup: hook("h.log('line one from the hook'); h.log('line two from the hook');") },
    { name: 'tis-fails', version: '1.0-1', setup: hook("h.log('about to fail'); throw new Error('boom from the hook');") },
  );
  expect((await w.run(['update'])).code).toBe(0);
  expect((await w.run(['install', 'tis-talks'])).code).toBe(0);
  expect((await w.run(['install', 'tis-fails'])).code).toBe(6);
});
afterAll(async () => {
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

describe('history', () => {
  it('lists each operation with when, what, result, error code and who ran it (--json)', async () => {
    const r = await w.run(['history'], { json: true });
    expect(r.code).toBe(0);
    const { entries } = JSON.parse(r.stdout) as { entries: Record<string, unknown>[] };
    const me = os.userInfo().username;
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ package: 'tis-talks', action: 'install', result: 'OK', error_code: null, user: me }),
        expect.objectContaining({ package: 'tis-fails', action: 'install', result: 'ERROR', error_code: 'ERR_HOOK_FAILED', user: me }),
      ]),
    );
    for (const e of entries) expect(Number.isNaN(Date.parse(e.at as string))).toBe(false);
  });

  it('history NAME shows that package only, and the tail of its hook output', async () => {
    const r = await w.run(['history', 'tis-fails']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('tis-talks');
    expect(r.stdout).toMatch(/ERROR +\S+ +install tis-fails 1\.0-1 failed: \[ERR_HOOK_FAILED\]/);
    expect(r.stdout).toContain('  | about to fail');
  });

  it("the failed hook's hint leads somewhere: `show NAME` prints the output tail", async () => {
    const failed = await w.run(['install', 'tis-fails']);
    expect(failed.stderr).toMatch(/^ {2}hint: .*`wapt-get show tis-fails`/m);
    const r = await w.run(['show', 'tis-fails']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('last hook output');
    expect(r.stdout).toContain('    | about to fail');
    const json = JSON.parse((await w.run(['show', 'tis-talks'], { json: true })).stdout) as { output_tail: string[] };
    expect(json.output_tail.join('\n')).toContain('line two from the hook');
  });
});

describe('hook output off a terminal', () => {
  it('a piped run keeps hook output in log_file, each line timestamped', () => {
    const text = readFileSync(logFile, 'utf8');
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z .*line one from the hook$/m);
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z +tis-fails ERROR \[ERR_HOOK_FAILED\]/m);
  });

  it('log_file is rotated by size and keeps three old generations, private (0600)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wapt-logrot-'));
    try {
      const file = path.join(dir, 'w.log');
      const log = new LogFile(file, 200, 3);
      for (let i = 0; i < 40; i++) log.write(`entry ${i} ${'x'.repeat(40)}\n`);
      log.close();
      expect(readdirSync(dir).sort()).toEqual(['w.log', 'w.log.1', 'w.log.2', 'w.log.3']);
      expect(readFileSync(file, 'utf8')).toContain('entry 39');
      expect(readFileSync(`${file}.1`, 'utf8')).not.toContain('entry 39');
      for (const f of readdirSync(dir)) expect(statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('log_file is never opened through a symlink', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wapt-logsym-'));
    try {
      writeFileSync(path.join(dir, 'target'), '');
      symlinkSync(path.join(dir, 'target'), path.join(dir, 'w.log'));
      const log = new LogFile(path.join(dir, 'w.log'));
      expect(() => log.write('x\n')).toThrow(/ELOOP/);
      expect(readFileSync(path.join(dir, 'target'), 'utf8')).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('--quiet (the README cron line)', () => {
  it('prints nothing at all when nothing changed: update && upgrade', async () => {
    await w.run(['forget', 'tis-fails']);
    for (const args of [
      ['--quiet', 'update'],
      ['--quiet', 'update'],
      ['--quiet', 'upgrade'],
    ]) {
      const r = await w.run(args);
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code: 0, stdout: '', stderr: '' });
    }
  });

  it('prints only the error when something fails', async () => {
    const r = await w.run(['--quiet', 'install', 'tis-fails']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 6, stderr: expect.any(String) });
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^wapt-get: error \[ERR_HOOK_FAILED\]/), expect.stringMatching(/^ {2}hint: /)]);
  });
});
