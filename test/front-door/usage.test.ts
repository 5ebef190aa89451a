// Issue 11 §4: usage errors are one `wapt-get: error [USAGE] …` line (plus a hint) on
// stderr like apt-get, exit 2, and a JSON error on stdout under --json; never the whole help.
import { runCli } from '../helpers/cli.js';

const noConfig = { WAPT_GET_CONFIG: '/nonexistent/wapt-get.ini' };

function expectOneUsageLine(stderr: string, message: string): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines[0]).toBe(`wapt-get: error [USAGE] ${message}`);
  expect(lines).toHaveLength(2);
  expect(lines[1]).toMatch(/^ {2}hint: `wapt-get /);
  expect(stderr).not.toContain('Usage:');
}

describe('usage errors', () => {
  it('an unknown verb is one line with a suggestion, exit 2 (wapt-get instal)', async () => {
    const r = await runCli(['instal', 'x'], { env: noConfig });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expectOneUsageLine(r.stderr, "unknown command 'instal' (did you mean install?)");
  });

  it('`wapt-get version` suggests --version, not verify', async () => {
    const r = await runCli(['version'], { env: noConfig });
    expect(r.code).toBe(2);
    expectOneUsageLine(r.stderr, "unknown command 'version' (did you mean --version?)");
    expect(r.stderr).not.toContain('verify');
  });

  it('a mistyped option names the verb and suggests the right option (--dryrun)', async () => {
    const r = await runCli(['install', '--dryrun', 'x'], { env: noConfig });
    expect(r.code).toBe(2);
    expectOneUsageLine(r.stderr, "install: unknown option '--dryrun' (did you mean --dry-run?)");
    expect(r.stderr).toContain('`wapt-get install --help`');
  });

  it('a missing argument is one line naming the argument', async () => {
    const r = await runCli(['install'], { env: noConfig });
    expect(r.code).toBe(2);
    expectOneUsageLine(r.stderr, "install: missing required argument 'packages'");
  });

  it('`wapt-get help instal` is the same one line, not the whole help', async () => {
    const r = await runCli(['help', 'instal'], { env: noConfig });
    expect(r.code).toBe(2);
    expectOneUsageLine(r.stderr, "unknown command 'instal' (did you mean install?)");
  });

  it.each([
    [['--json', 'instal'], 'commander.unknownCommand'],
    [['instal', '--json'], 'commander.unknownCommand'],
    [['--json', 'install', '--dryrun', 'x'], 'commander.unknownOption'],
    [['install', '--json'], 'commander.missingArgument'],
  ])('under --json the usage error is JSON on stdout: %j', async (args, commanderCode) => {
    const r = await runCli(args, { env: noConfig });
    expect(r.code).toBe(2);
    const body = JSON.parse(r.stdout) as { error: { code: string; message: string; detail: Record<string, unknown> } };
    expect(body.error.code).toBe('USAGE');
    expect(body.error.detail.commander_code).toBe(commanderCode);
    expect(r.stderr).toBe('');
  });

  it('help still works and exits 0', async () => {
    const r = await runCli(['help', 'install'], { env: noConfig });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: wapt-get install');
  });
});
