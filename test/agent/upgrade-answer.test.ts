// Issue 9 cases 12 and 13 through the real CLI against a real nginx repository.
// 12: one function answers "what would upgrade do" (upgradePlan); upgrade, check-upgrades,
//     list-upgrade, download-upgrade and the update summary give the same count.
// 13: a plan's exit code is its worst error's, through the one table (errors.ts).
import { randomBytes } from 'node:crypto';
import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, EXIT_SEVERITY, worstExit } from '../../src/errors.js';
import { cleanupPki } from '../helpers/pki.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';

let w: AgentEnv;

beforeAll(async () => {
  w = await makeAgentEnv();
  await w.publish(
    { name: 'tis-held', version: '1.0-1' },
    { name: 'tis-tamper', files: { 'data.bin': randomBytes(64 * 1024) } },
    { name: 'tis-hookfails', setup: 'export async function install() { throw new Error("fails on purpose"); }\n' },
  );
  expect((await w.run(['update'])).code).toBe(0);
  expect((await w.run(['install', 'tis-held'])).code).toBe(0);
  await w.publish({ name: 'tis-held', version: '2.0-1' });
});

afterAll(async () => {
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

/** The count each verb gives for "what would upgrade do". */
async function countsOfEveryVerb(): Promise<Record<string, number>> {
  const update = await w.run(['update'], { json: true });
  expect(update.code).toBe(0);
  const check = await w.run(['check-upgrades'], { json: true });
  const list = await w.run(['list-upgrade', '--exit-code'], { json: true });
  const upgrade = await w.run(['upgrade', '--dry-run'], { json: true });
  const download = await w.run(['download-upgrade', '--dry-run'], { json: true });
  const pending = JSON.parse(check.stdout).pending.length;
  expect(check.code).toBe(pending > 0 ? EXIT.UPGRADES_PENDING : EXIT.OK);
  expect(list.code).toBe(check.code);
  return {
    update: JSON.parse(update.stdout).upgradable,
    'check-upgrades': pending,
    'list-upgrade': JSON.parse(list.stdout).upgrades.length,
    'upgrade --dry-run': JSON.parse(upgrade.stdout).plan.order.length,
    'download-upgrade --dry-run': JSON.parse(download.stdout).plan.order.length,
  };
}

const every = (n: number) => ({ update: n, 'check-upgrades': n, 'list-upgrade': n, 'upgrade --dry-run': n, 'download-upgrade --dry-run': n });

test('issue 9 case 12: an expired hold (hold_until passed) gives the same count, 1, in every verb', async () => {
  expect((await w.run(['hold', 'tis-held', '--until', '2020-01-01'])).code).toBe(0);
  expect(await countsOfEveryVerb()).toEqual(every(1));
});

test('issue 9 case 12: a hold still in force gives 0 in every verb', async () => {
  expect((await w.run(['hold', 'tis-held', '--until', '2999-01-01'])).code).toBe(0);
  expect(await countsOfEveryVerb()).toEqual(every(0));
  expect((await w.run(['unhold', 'tis-held'])).code).toBe(0);
  expect(await countsOfEveryVerb()).toEqual(every(1));
});

test('issue 9 case 13: worst is defined once: EXIT_SEVERITY orders every exit code but OK and 100, tampering first', () => {
  expect(EXIT_SEVERITY[0]).toBe(EXIT.VERIFY);
  const all = Object.values(EXIT).filter((c) => c !== EXIT.OK && c !== EXIT.UPGRADES_PENDING);
  expect([...EXIT_SEVERITY].sort((a, b) => a - b)).toEqual([...all].sort((a, b) => a - b));
  expect(worstExit([])).toBe(EXIT.OK);
  expect(worstExit(['ERR_HOOK_FAILED', 'ERR_BAD_DIGEST', 'ERR_DOWNLOAD_PACK'])).toBe(EXIT.VERIFY);
  expect(worstExit(['ERR_DOWNLOAD_PACK', 'ERR_HOOK_FAILED'])).toBe(EXIT.INSTALL_FAILED);
  expect(worstExit(['UNSATISFIABLE', 'ERR_DOWNLOAD_PACK'])).toBe(EXIT.NETWORK);
});

test('issue 9 case 13: a package tampered with on the server → ERR_BAD_DIGEST, exit 3 (the table), also when another package failed its hook', async () => {
  const good = (await readdir(w.repoDir)).find((f) => f.startsWith('tis-tamper_'))!;
  const saved = path.join(w.dir, 'good-tamper.wapt');
  await copyFile(path.join(w.repoDir, good), saved);
  const bytes = await readFile(saved);
  bytes[Math.floor(bytes.length / 3)] ^= 0xff; // same size: only the index digest tells
  await writeFile(path.join(w.repoDir, good), bytes);
  try {
    const one = await w.run(['install', 'tis-tamper'], { json: true });
    expect(JSON.parse(one.stdout).results).toEqual([expect.objectContaining({ package: 'tis-tamper', status: 'ERROR', error_code: 'ERR_BAD_DIGEST' })]);
    expect(one.code).toBe(3);
    const two = await w.run(['install', 'tis-hookfails', 'tis-tamper'], { json: true });
    const codes = JSON.parse(two.stdout)
      .results.map((r: { error_code: string }) => r.error_code)
      .sort();
    expect(codes).toEqual(['ERR_BAD_DIGEST', 'ERR_HOOK_FAILED']);
    expect(two.code).toBe(3); // the worst of 3 and 6
    // the same through upgrade: the ERROR rows are retried and the worst still decides
    const up = await w.run(['upgrade'], { json: true });
    expect(up.code).toBe(3);
  } finally {
    await copyFile(saved, path.join(w.repoDir, good));
    await w.run(['forget', 'tis-hookfails', 'tis-tamper']);
  }
});

test('issue 9 case 13: a tampered local .wapt file → exit 3 (the table), like a tampered download', async () => {
  const good = (await readdir(w.repoDir)).find((f) => f.startsWith('tis-tamper_'))!;
  const local = path.join(w.dir, 'local-tamper.wapt');
  const bytes = await readFile(path.join(w.repoDir, good));
  bytes[Math.floor(bytes.length / 3)] ^= 0xff;
  await writeFile(local, bytes);
  const r = await w.run(['install', local], { json: true });
  expect(r.code).toBe(3);
  expect(JSON.parse(r.stdout).error.code).toBe('MANIFEST_MISMATCH'); // the flipped byte is in data.bin
});
