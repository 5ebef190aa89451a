// Issue 10, Done when, "over the relay too", through the real binary: a host enrols at a
// branch `serve --upstream`, installs, its automatic report reaches head office unchanged;
// an admin queues a signed action at head office; it travels back through the relay (in
// head's answer to a relayed report), the host's `agent` long-polls the branch, runs it,
// and the outcome reaches head office, where the admin sees it.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeActionSigner, type ActionSigner } from '../helpers/action-signer.js';
import { buildTestPackage, collect, spawnAgent } from '../helpers/agent-env.js';
import { cleanupPki, getTestPki, type TestPki } from '../helpers/pki.js';
import { callServe, startServe, type Serving } from '../helpers/serve.js';

const UUID = 'BA5E0000-0000-4000-8000-00000000F10E';
const RELAY = 'relay-flow-relay-token';
const VIEW = 'relay-flow-view-token';
const OPERATE = 'relay-flow-operate-token';
const ENROL = 'relay-flow-enrol-token';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let tmp: string;
let head: Serving;
let branch: Serving;
let pki: TestPki;
let signer: ActionSigner;
let ini: string;
let pkgFile: string;

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => collect(spawnAgent(['-c', ini, ...args], env), 90_000);
const atHead = async (path: string) => (await callServe(head, 'GET', path, { token: VIEW })).json;

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`not seen in ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-relay-flow-'));
  await mkdir(join(tmp, 'repo'));
  await writeFile(join(tmp, 'head-admins'), `branch-a operate ${sha(RELAY)}\nviewer view ${sha(VIEW)}\nops operate ${sha(OPERATE)}\n`);
  await writeFile(join(tmp, 'relay-token'), `${RELAY}\n`);
  await writeFile(join(tmp, 'enrol'), `${ENROL}\n`);
  head = await startServe(tmp, ['--repo', join(tmp, 'repo'), '--data-dir', join(tmp, 'head'), '--admin-tokens-file', join(tmp, 'head-admins')]);
  branch = await startServe(tmp, [
    '--repo',
    join(tmp, 'repo'),
    '--data-dir',
    join(tmp, 'branch'),
    '--registration-token-file',
    join(tmp, 'enrol'),
    '--upstream',
    head.url.replace(/\/$/, ''),
    '--upstream-token-file',
    join(tmp, 'relay-token'),
    '--upstream-ca',
    head.pin,
  ]);
  signer = await makeActionSigner(tmp);
  pki = await getTestPki();
  pkgFile = await buildTestPackage(pki, tmp, join(tmp, 'pkgs'), { name: 'tis-relayed', version: '2.0-1' });
  ini = join(tmp, 'wapt-get.ini');
  await writeFile(
    ini,
    [
      '[global]',
      `wapt_server = ${branch.url.replace(/\/$/, '')}`,
      `verify_cert = ${branch.pin}`,
      `dbdir = ${join(tmp, 'db')}`,
      `host_uuid = ${UUID}`,
      'timeout = 5',
      'report_timeout = 5',
      'report_jitter = 0',
      `action_signers_dir = ${signer.signersDir}`,
      `trusted_certs_dir = ${pki.trustedDir}`,
      '',
    ].join('\n'),
  );
}, 120_000);

afterAll(async () => {
  await branch?.stop();
  await head?.stop();
  if (pki) cleanupPki(pki);
  await rm(tmp, { recursive: true, force: true });
});

test('enrol at the branch: head office knows the host, with the same certificate', async () => {
  const r = await cli(['--json', 'register'], { WAPT_GET_REGISTRATION_TOKEN: ENROL });
  expect(r.code).toBe(0);
  const fp = JSON.parse(r.stdout).fingerprint as string;
  const rec = await until('the host at head office', async () => {
    const res = await callServe(head, 'GET', `/api/v1/hosts/${UUID}`, { token: VIEW });
    return res.status === 200 && res.json;
  });
  expect(rec.fingerprint).toBe(fp);
}, 60_000);

test('install at the host: its automatic report reaches head office with the install event', async () => {
  const r = await cli(['install', pkgFile]);
  expect(r.code).toBe(0);
  expect(r.stderr).not.toMatch(/queued in the outbox/);
  await until('the install event at head office', async () => {
    const host = await atHead(`/api/v1/hosts/${UUID}`);
    const events = (host.reports as any[]).flatMap((x) => (x.claim.events ?? []) as any[]);
    return events.some((e) => e.op === 'install' && e.package === 'tis-relayed' && e.result === 'OK');
  });
}, 60_000);

test('a signed action queued at head office comes back through the relay; the agent runs it; head office sees the outcome', async () => {
  const signed = await cli(['action', 'sign', '--host', UUID, '--key', signer.keyPath, '--cert', signer.certPath, '--window', '300', 'forget', 'tis-relayed']);
  expect(signed.code).toBe(0);
  const action = JSON.parse(signed.stdout);
  const queued = await callServe(head, 'POST', '/api/v1/actions', { token: OPERATE, body: JSON.stringify(action) });
  expect(queued.status).toBe(201);
  // the agent's first report goes through the branch to head, whose answer carries the action
  // back to the branch; the agent's one long-poll at the branch, already waiting, hands it over
  const run = await cli(['agent', '--polls', '1', '--wait', '20']);
  expect(run.code).toBe(0);
  expect(run.stderr).toContain(`running signed action ${action.id}: forget tis-relayed`);
  const done = await until('the outcome at head office', async () => {
    const list = (await atHead('/api/v1/actions')).actions as any[];
    return list.find((a) => a.id === action.id && a.outcome)?.outcome;
  });
  expect(done).toMatchObject({ result: 'OK' });
  const listed = await cli(['--json', 'list']);
  expect(listed.stdout).not.toContain('tis-relayed'); // forgotten at the host
}, 120_000);
