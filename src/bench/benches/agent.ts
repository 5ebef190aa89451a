// In-process agent benchmarks: resolve-10k (an implicit `upgrade` over a
// 10,000-entry index with 200 installed) and db-persist-10k (10,000 installed rows
// upserted in one transaction, then persist()).
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { openDb, resolve, type Candidate, type Environment, type InstalledPkg } from '../../agent/index.js';
import { controlFromObject } from '../../package/index.js';
import { WAPT_COMPAT_VERSION } from '../../version.js';
import type { BenchContext } from '../context.js';
import { row, type Row } from '../report.js';
import { best } from '../util.js';

const name = (i: number) => `bench-app-${String(i).padStart(5, '0')}`;

/** `entries` index entries: entries/2 packages in two versions each; every 10th depends on its neighbour. */
export function syntheticIndex(entries: number): Candidate[] {
  const out: Candidate[] = [];
  const names = entries / 2;
  for (let i = 0; i < names; i++) {
    for (const v of ['1.0.0-1', '1.1.0-1']) {
      const control = controlFromObject({
        package: name(i),
        version: v,
        architecture: 'all',
        maturity: 'PROD',
        section: 'base',
        depends: i % 10 === 0 && i + 1 < names ? name(i + 1) : '',
        description: `synthetic package ${i}`,
      });
      out.push({ control, repo: 'global', repoPriority: 0, filename: `${name(i)}_${v}_PROD.wapt`, size: 1000, sha256: '0'.repeat(64) });
    }
  }
  return out;
}

export async function benchResolve(_ctx: BenchContext): Promise<Row[]> {
  const available = syntheticIndex(10_000);
  // 200 installed at the old version, spread over the index: all upgradable.
  const installed: InstalledPkg[] = Array.from({ length: 200 }, (_, k) => ({
    package: name(k * 25),
    version: '1.0.0-1',
    status: 'OK',
    explicit: true,
    held: false,
  }));
  const env: Environment = {
    architecture: 'x64',
    maturities: ['PROD', ''],
    locales: [],
    os: 'linux',
    osVersion: os.release(),
    waptVersion: WAPT_COMPAT_VERSION,
    now: new Date(),
  };
  let planned = 0;
  const t = await best(
    async () => {
      const plan = resolve({ kind: 'upgrade', names: [] }, available, installed, env);
      planned = plan.order.length;
    },
    { runs: 5 },
  );
  if (planned < 200) throw new Error(`resolve-10k: expected ≥ 200 planned steps, got ${planned}`);
  return [
    row({
      bench: 'resolve-10k',
      label: 'resolve-10k upgrade, 200 installed',
      ours: t.seconds,
      target: { kind: 'max', value: 0.5, unit: 's' },
      runs: `min of ${t.runs}`,
      note: `${planned} steps planned; catalog built inside resolve()`,
    }),
  ];
}

export async function benchDbPersist(ctx: BenchContext): Promise<Row[]> {
  const dir = await mkdtemp(join(ctx.work, 'db-'));
  try {
    let upsertSec = 0;
    let size = 0;
    const t = await best(async () => {
      const path = join(dir, 'waptdb.sqlite');
      await rm(path, { force: true });
      const db = await openDb(path);
      const t0 = process.hrtime.bigint();
      db.transaction(() => {
        for (let i = 0; i < 10_000; i++) {
          db.installed.upsert({
            package: name(i),
            version: '1.0.0-1',
            install_status: 'OK',
            explicit_by: 'root',
            install_date: new Date().toISOString(),
            repo: 'global',
            filename: `${name(i)}_1.0.0-1_PROD.wapt`,
          });
        }
      });
      const t1 = process.hrtime.bigint();
      await db.persist();
      const t2 = process.hrtime.bigint();
      db.close();
      upsertSec = Number(t1 - t0) / 1e9;
      size = (await stat(path)).size;
      return Number(t2 - t1) / 1e9;
    });
    return [
      row({
        bench: 'db-persist-10k',
        label: 'db-persist-10k installed rows',
        ours: t.seconds,
        runs: `min of ${t.runs}`,
        note: `persist() only: export + temp file + fsync + rename; file ${(size / 1024 / 1024).toFixed(1)} MiB`,
      }),
      row({
        bench: 'db-persist-10k',
        label: 'db-upsert-10k in one transaction',
        ours: upsertSec,
        runs: 'last of 3',
        note: 'installed.upsert × 10,000 inside db.transaction()',
      }),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
