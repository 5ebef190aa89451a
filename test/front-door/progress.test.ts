// Issue 11 §6: on a terminal the download bar shows rate and time left, and after 100 % says
// what comes next (verifying, unpacking) instead of going silent; off a terminal, none of it.
// A real rate-limited nginx, the real binary under a pseudo-terminal (script(1)).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { makeAgentEnv, agentCli, type AgentEnv } from '../helpers/agent-env.js';
import { cleanupPki } from '../helpers/pki.js';

let w: AgentEnv;
beforeAll(async () => {
  w = await makeAgentEnv({ rateLimit: '400k' });
  await w.publish(
    { name: 'tis-big', version: '1.0-1', template: 'dir', files: { 'files/blob.bin': randomBytes(1200 * 1024) } },
    { name: 'tis-big2', version: '1.0-1', template: 'dir', files: { 'files/blob.bin': randomBytes(1200 * 1024) } },
  );
  expect((await w.run(['update'])).code).toBe(0);
});
afterAll(async () => {
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

test('on a terminal: rate, ETA, then the step after the transfer', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  const line = `${JSON.stringify(process.execPath)} ${JSON.stringify(agentCli())} -c ${JSON.stringify(w.configPath)} install tis-big`;
  const screen = execFileSync('script', ['-qec', line, '/dev/null'], { env, encoding: 'utf8', timeout: 120_000 });
  expect(screen).toMatch(/tis-big \[[#.]{24}\] \d+% [\d.]+ (KiB|MiB)\/[\d.]+ MiB [\d.]+ (KiB|MiB)\/s ETA [\d.]+ s/);
  expect(screen).toMatch(/\n {2}[\d.]+ MiB in [\d.]+ s \([\d.]+ (KiB|MiB)\/s\); verifying and unpacking tis-big…/);
});

test('off a terminal: one plain line, no rate or ETA redraws', async () => {
  const r = await w.run(['install', 'tis-big2']);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain('  downloading tis-big2');
  expect(r.stderr).not.toContain('ETA');
  expect(r.stderr).not.toContain('\r');
});
