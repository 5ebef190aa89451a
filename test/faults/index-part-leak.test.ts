// Issue 9, case 5: a failed index transfer used to leave
// `cache/index/<repo>.Packages.<pid>.part` (+ `.part.json`) behind for ever, one pair per
// run. Now the part has one name per repository and the next run continues it.
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanupPki } from '../helpers/pki.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { startFaultServer, type FaultServer } from './fault-server.js';

let w: AgentEnv;
let srv: FaultServer;
const CUT = 100; // bytes sent per response before the connection is cut

beforeAll(async () => {
  w = await makeAgentEnv();
  await w.publish({ name: 'tis-p1' }, { name: 'tis-p2' }, { name: 'tis-p3' });
  srv = await startFaultServer({ root: w.repoDir, cert: w.tls.serverCert, key: w.tls.serverKey });
  await w.configure({ repo_url: srv.url });
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

const indexDir = () => path.join(w.cacheDir, 'index');
const leftovers = async () => (await readdir(indexDir()).catch(() => [] as string[])).sort();

test('case 5: five failed index transfers leave at most one part, and the next run continues it', async () => {
  // a leftover of an older version (per-pid name) is removed, never continued
  await writeFile(path.join(indexDir(), 'global.Packages.4242.part'), 'x'.repeat(1000)).catch(async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(indexDir(), { recursive: true });
    await writeFile(path.join(indexDir(), 'global.Packages.4242.part'), 'x'.repeat(1000));
  });
  await writeFile(path.join(indexDir(), 'global.Packages.4242.part.json'), '{}');

  srv.faultFor = (p) => (p === '/Packages' ? { kind: 'cut', bytes: CUT } : undefined);
  for (let i = 0; i < 5; i++) {
    const r = await w.run(['update'], { json: true });
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout).error.code).toBe('NETWORK_ERROR');
    const files = await leftovers();
    expect(files.filter((f) => f.endsWith('.part'))).toEqual(['global.Packages.part']);
    expect(files).toEqual(['global.Packages.part', 'global.Packages.part.json']);
  }
  const ranged = srv.requests.filter((q) => q.path === '/Packages' && q.range);
  expect(ranged.length).toBeGreaterThan(5); // every try after the first continued the part
  // it grew across runs (a cut may lose what was still in flight, never what reached the part)
  const lastRange = Number(/bytes=(\d+)-/.exec(ranged[ranged.length - 1]!.range!)![1]);
  expect(lastRange).toBeGreaterThanOrEqual(CUT);

  srv.faultFor = () => undefined;
  srv.requests.length = 0;
  const ok = await w.run(['update'], { json: true });
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout).packages).toBe(3);
  // the healthy run asked for the rest of the part, not the whole index again
  expect(srv.requests.find((q) => q.path === '/Packages')!.range).toMatch(/^bytes=\d+-$/);
  expect(await leftovers()).toEqual([]);
}, 120_000);
