// src/cli/progress.ts: step lines, the download bar only on a TTY, no colour without one,
// and the command-line overrides (--limit-rate, --lock-timeout) validated like ini values.
import { PassThrough } from 'node:stream';
import { Output } from '../../src/cli/output.js';
import { agentConfig, verbIo } from '../../src/cli/progress.js';
import type { CommandContext } from '../../src/cli/command.js';
import type { PlanStep } from '../../src/agent/resolver/index.js';

function ctxWith(tty: boolean, color: boolean): { ctx: CommandContext; err: () => string } {
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  const chunks: Buffer[] = [];
  stderr.on('data', (b: Buffer) => chunks.push(b));
  const out = new Output({ json: false, quiet: false, verbose: false, color, stdout: new PassThrough(), stderr });
  return { ctx: { out, configPath: '/nonexistent/wapt-get.ini', env: {}, cwd: '/' }, err: () => Buffer.concat(chunks).toString('utf8') };
}

const step: PlanStep = { action: 'install', package: 'tis-app', toVersion: '1.2-1', reason: 'requested', explicit: true };

test('a step line per package: [i/n] installing NAME VERSION …, plain when not a TTY', () => {
  const { ctx, err } = ctxWith(false, false);
  const io = verbIo(ctx);
  io.step!(1, 3, step);
  io.result!({ package: 'tis-app', version: '1.2-1', action: 'install', status: 'ERROR', error_code: 'ERR_TIMEOUT', message: 'killed' });
  // the failed step carries its code's hint (issue 11 §3: every hint names a real next step)
  expect(err()).toBe(
    '[1/3] installing tis-app 1.2-1 …\n  ERROR [ERR_TIMEOUT] killed\n  hint: the setup hook ran past its timeout and was killed; raise install_timeout or fix the hook\n',
  );
});

test('not a TTY: no progress bar, no hook echo, one plain download line; no escape codes', () => {
  const { ctx, err } = ctxWith(false, false);
  const io = verbIo(ctx);
  io.progress!('tis-app', 10, 100);
  io.progress!('tis-app', 100, 100);
  io.output!('hook says hi\n', 'stdout');
  expect(err()).toBe('  downloading tis-app (100 B)\n');
});

test('on a TTY: the bar redraws in place and ends with a newline; hook output is echoed live', () => {
  const { ctx, err } = ctxWith(true, true);
  const io = verbIo(ctx);
  io.progress!('tis-app', 2048, 4096);
  io.progress!('tis-app', 4096, 4096);
  io.output!('hook says hi\n', 'stdout');
  const text = err();
  expect(text).toContain('\r  tis-app [############............] 50% 2.0 KiB/4.0 KiB');
  expect(text).toContain('[########################] 100% 4.0 KiB/4.0 KiB\x1b[K\n');
  expect(text.endsWith('hook says hi\n')).toBe(true);
});

test('--limit-rate and --lock-timeout override the ini; a bad rate is CONFIG_INVALID', async () => {
  const { ctx } = ctxWith(false, false);
  const cfg = await agentConfig(ctx, { limitRate: '100k', lockTimeout: '1' });
  expect(cfg.limitRate).toBe(100 * 1024);
  expect(cfg.lockTimeoutMs).toBe(1000);
  await expect(agentConfig(ctx, { limitRate: 'fast' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
});
