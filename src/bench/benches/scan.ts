// scan-1k / scan-10k: `wapt-get scanpackages` (verifying each control signature and
// signing the index statement, as a publisher runs it) from a cold cache, vs
// apt-ftparchive and dpkg-scanpackages over as many tiny .deb files; and a rescan
// with one package changed (the scan cache must make it cheap).
import { readdir, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from '../context.js';
import { row, unavailable, type Row } from '../report.js';
import { ensureDebSet, ensureWaptSet, pkgName } from '../small-sets.js';
import { best, cli, hasCommand, q, sh } from '../util.js';

const runsText = (t: { runs: number }) => (t.runs > 1 ? `min of ${t.runs}` : '1 run');
const short = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));

/** Removes what a scan leaves, so the next one starts cold. */
export async function resetScan(dir: string): Promise<void> {
  await rm(join(dir, 'Packages'), { force: true });
  await rm(join(dir, '.wapt-get-scan-cache'), { force: true });
}

/** Runs our scan of `dir`: the CLI verb when this build has it, else the same code in-process. */
export async function scanner(ctx: BenchContext): Promise<{ how: string; scan: (dir: string) => Promise<void> }> {
  const sign = ['--trusted', ctx.pki.trustedDir, '--sign', '--key', ctx.pki.keyPath, '--cert', ctx.pki.certPath, '--expires', '30d'];
  if (await ctx.hasVerb('scanpackages')) {
    return { how: 'wapt-get scanpackages', scan: async (dir) => void (await cli(['-q', 'scanpackages', dir, ...sign])) };
  }
  const { scanPackages } = await import('../../repo/index.js');
  return {
    how: 'scanPackages (in-process: the scanpackages verb is not wired in this build)',
    scan: async (dir) => {
      await scanPackages(dir, { trust: ctx.pki.trust, sign: { key: ctx.pki.signer.key, cert: ctx.pki.signer.certificates[0]!, expiresInMs: 30 * 86400_000 } });
    },
  };
}

async function peers(ctx: BenchContext, debDir: string): Promise<{ apt: number | null; aptRuns: string; dpkg: number | null; dpkgRuns: string }> {
  const out = join(ctx.work, 'peer-Packages');
  let apt: number | null = null;
  let dpkg: number | null = null;
  let aptRuns = '—';
  let dpkgRuns = '—';
  if (hasCommand('apt-ftparchive')) {
    const t = await best(async () => void (await sh(`cd ${q(debDir)} && apt-ftparchive packages . > ${q(out)}`)));
    apt = t.seconds;
    aptRuns = runsText(t);
  }
  if (hasCommand('dpkg-scanpackages')) {
    const t = await best(async () => void (await sh(`cd ${q(debDir)} && dpkg-scanpackages . > ${q(out)} 2>/dev/null`)));
    dpkg = t.seconds;
    dpkgRuns = runsText(t);
  }
  await rm(out, { force: true });
  return { apt, aptRuns, dpkg, dpkgRuns };
}

export async function benchScan(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  const { how, scan } = await scanner(ctx);
  for (const count of ctx.scanCounts) {
    const waptDir = await ensureWaptSet(ctx.work, ctx.pki, count, ctx.log);
    const debDir = await ensureDebSet(ctx.work, count, ctx.log);
    const ours = await best(() => scan(waptDir), { prepare: () => resetScan(waptDir) });
    const p = await peers(ctx, debDir);
    const label = `scan-${short(count)} cold`;
    const note = how.startsWith('wapt-get') ? undefined : how;
    if (p.apt === null) rows.push(unavailable('scan', `${label} vs apt-ftparchive`, 'apt-ftparchive is not installed (apt-get install apt-utils)'));
    else
      rows.push(
        row({
          bench: 'scan',
          label: `${label} vs apt-ftparchive`,
          ours: ours.seconds,
          peerLabel: 'apt-ftparchive packages',
          peer: p.apt,
          target: count >= 10000 ? { kind: 'ratio', min: 1 } : undefined,
          runs: `${runsText(ours)} / peer ${p.aptRuns}`,
          note,
        }),
      );
    if (p.dpkg !== null)
      rows.push(
        row({
          bench: 'scan',
          label: `${label} vs dpkg-scanpackages`,
          ours: ours.seconds,
          peerLabel: 'dpkg-scanpackages',
          peer: p.dpkg,
          runs: `${runsText(ours)} / peer ${p.dpkgRuns}`,
        }),
      );
  }
  // Rescan of the largest set with one file changed: the cache must carry the rest.
  const count = ctx.repoCount;
  const waptDir = await ensureWaptSet(ctx.work, ctx.pki, count, ctx.log);
  await resetScan(waptDir);
  await scan(waptDir);
  const victimName = (await readdir(waptDir)).find((n) => n.startsWith(`${pkgName(7)}_`) && n.endsWith('.wapt'));
  if (!victimName) throw new Error(`no package ${pkgName(7)} in ${waptDir}`);
  const victim = join(waptDir, victimName);
  let tick = 0;
  const rescan = await best(() => scan(waptDir), {
    prepare: async () => {
      const t = new Date(Date.now() - 3600_000 + ++tick * 1000);
      await utimes(victim, t, t); // a new mtime: the scan cache no longer vouches for it
    },
  });
  rows.push(
    row({
      bench: 'scan',
      label: `rescan-${short(count)} 1 changed`,
      ours: rescan.seconds,
      target: { kind: 'max', value: 0.3, unit: 's' },
      runs: runsText(rescan),
      note: how.startsWith('wapt-get') ? 'includes node start-up of the CLI' : how,
    }),
  );
  return rows;
}
