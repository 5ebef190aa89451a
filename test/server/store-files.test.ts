// The store suite against the default (files) backend, plus what only it has: the
// one-serve lock, 0600 files, and list speed with 20,000 hosts.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/server/store/index.js';
import { makeHost, type Host } from './fleet-helpers.js';
import { storeSuite } from './store-suite.js';

let tmp: string;
let a: Host;
let b: Host;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-store-'));
  [a, b] = await Promise.all([makeHost('AAAA0000-0000-4000-8000-000000000001'), makeHost('BBBB0000-0000-4000-8000-000000000002')]);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

storeSuite(
  'files',
  () => FileStore.open(join(tmp, 'suite')),
  () => ({ a, b }),
);

test('files store: a second instance on the same data dir is refused; host files are 0600', async () => {
  const dir = join(tmp, 'lock');
  const s = await FileStore.open(dir);
  try {
    await expect(FileStore.open(dir)).rejects.toThrow(/in use by serve pid/);
    await s.register({
      key: 'h1',
      uuid: 'H1',
      fingerprint: 'f',
      sequence: 1,
      at: new Date().toISOString(),
      hostname: 'x',
      certificate: '',
      claim: { host_uuid: 'H1' } as never,
    });
    expect((await stat(join(dir, 'hosts', 'h1.json'))).mode & 0o777).toBe(0o600);
  } finally {
    await s.close();
  }
});

test('files store: 20,000 hosts — list page, filtered list and package stats each under 200 ms (after a restart)', async () => {
  const dir = join(tmp, 'big');
  const s = await FileStore.open(dir);
  const claim = (i: number) =>
    ({
      host_uuid: `H${i}`,
      packages: [
        { package: 'tis-a', version: '1-1', install_status: i % 10 ? 'OK' : 'ERROR' },
        { package: `tis-${i % 50}`, version: '2-1', install_status: 'OK' },
      ],
    }) as never;
  const at = new Date().toISOString();
  for (let i = 0; i < 20_000; i += 500) {
    await Promise.all(
      Array.from({ length: 500 }, (_, j) => {
        const n = i + j;
        const key = `host-${String(n).padStart(6, '0')}`;
        return s['exclusive'](key, async () => {
          // bulk load through the same index as register, without 20,000 fsyncs
          const rec = {
            host_uuid: key,
            certificate: '',
            fingerprint: `fp${n}`,
            registered_at: at,
            last_seen: at,
            last_sequence: 1,
            hostname: `pc${n}`,
            inventory: claim(n),
            inventory_at: at,
            status: null,
            status_at: null,
          };
          await (await import('node:fs/promises')).writeFile(join(dir, 'hosts', `${key}.json`), JSON.stringify(rec), { mode: 0o600 });
        });
      }),
    );
  }
  await s.close();
  const t0 = Date.now();
  const s2 = await FileStore.open(dir);
  const loadMs = Date.now() - t0;
  try {
    const time = async (fn: () => Promise<unknown>) => {
      const t = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    expect(await s2.countHosts()).toBe(20_000);
    const page = await time(() => s2.listHosts({ limit: 100 }));
    const deep = await time(() => s2.listHosts({ limit: 100, after: 'host-019000' }));
    const filtered = await time(() => s2.listHosts({ limit: 100, state: 'ERROR', q: 'pc19' }));
    const stats = await time(() => s2.packageStats());
    console.log(
      `20k hosts: load ${loadMs} ms, page ${page.toFixed(1)} ms, deep ${deep.toFixed(1)} ms, filtered ${filtered.toFixed(1)} ms, stats ${stats.toFixed(1)} ms`,
    );
    for (const ms of [page, deep, filtered, stats]) expect(ms).toBeLessThan(200);
  } finally {
    await s2.close();
  }
}, 180_000);
