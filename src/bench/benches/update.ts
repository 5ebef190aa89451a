// update cold / warm: `wapt-get update` against a real nginx (HTTPS, pinned
// server certificate) serving the signed index of the big small-package set, vs
// `apt-get update` against the same nginx (plain HTTP) serving a flat apt repo of
// as many .debs. apt's own state (/etc/apt, /var/lib/apt) is never touched.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { BenchContext } from '../context.js';
import { startNginx } from '../nginx.js';
import { row, unavailable, type Row } from '../report.js';
import { ensureDebSet, ensureWaptSet } from '../small-sets.js';
import { best, cli, hasCommand, q, runOk, sh } from '../util.js';
import { scanner } from './scan.js';

const runsText = (t: { runs: number }) => (t.runs > 1 ? `min of ${t.runs}` : '1 run');

/** Packages, Packages.gz and an unsigned Release in the .deb directory (a flat repo). */
async function prepareAptRepo(debDir: string): Promise<void> {
  await sh(
    `cd ${q(debDir)} && rm -f Packages Packages.gz Release && apt-ftparchive packages . > Packages && gzip -k -f Packages && apt-ftparchive release . > ../Release.tmp && mv ../Release.tmp Release`,
  );
}

function aptArgs(root: string, sourceList: string): string[] {
  return [
    'update',
    '-qq',
    '-o',
    `Dir::Etc::sourcelist=${sourceList}`,
    '-o',
    'Dir::Etc::sourceparts=-',
    '-o',
    `Dir::State::Lists=${join(root, 'lists')}`,
    '-o',
    `Dir::Cache=${join(root, 'cache')}`,
    '-o',
    'APT::Sandbox::User=root', // no drop to _apt: it could not write under our temp dir
    '-o',
    'Acquire::Languages=none',
    '-o',
    'Debug::NoLocking=1',
  ];
}

export async function benchUpdate(ctx: BenchContext): Promise<Row[]> {
  const count = ctx.repoCount;
  const label = `update-${count >= 1000 ? `${count / 1000}k` : count}`;
  const waptDir = await ensureWaptSet(ctx.work, ctx.pki, count, ctx.log);
  const debDir = await ensureDebSet(ctx.work, count, ctx.log);
  const { scan } = await scanner(ctx);
  await scan(waptDir); // a signed index statement (X2) for the clients
  const haveApt = hasCommand('apt-get') && hasCommand('apt-ftparchive');
  if (haveApt) await prepareAptRepo(debDir);

  const tls = await ctx.tls();
  const server = await startNginx(ctx.work, tls, ctx.work);
  const state = join(ctx.work, 'update-state');
  try {
    await mkdir(state, { recursive: true });
    // --- ours
    let cold: { seconds: number; runs: number } | null = null;
    let warm: { seconds: number; runs: number } | null = null;
    const hasUpdate = await ctx.hasVerb('update');
    if (hasUpdate) {
      const ini = join(state, 'wapt-get.ini');
      const dbdir = join(state, 'db');
      await writeFile(
        ini,
        [
          '[global]',
          `repo_url = ${server.httpsUrl}/${basename(waptDir)}`,
          `verify_cert = ${tls.cert}`,
          `dbdir = ${dbdir}`,
          `trusted_certs_dir = ${ctx.pki.trustedDir}`,
          'use_hostpackages = 0',
          '',
        ].join('\n'),
      );
      const update = async () => void (await cli(['--config', ini, '-q', 'update']));
      cold = await best(update, { prepare: () => rm(dbdir, { recursive: true, force: true }) });
      warm = await best(update);
    }
    // --- apt
    let aptCold: { seconds: number; runs: number } | null = null;
    let aptWarm: { seconds: number; runs: number } | null = null;
    if (haveApt) {
      const aptRoot = join(state, 'apt');
      const sourceList = join(aptRoot, 'sources.list');
      const reset = async () => {
        await rm(aptRoot, { recursive: true, force: true });
        await mkdir(join(aptRoot, 'lists', 'partial'), { recursive: true });
        await mkdir(join(aptRoot, 'cache', 'archives', 'partial'), { recursive: true });
        await writeFile(sourceList, `deb [trusted=yes] ${server.httpUrl}/${basename(debDir)}/ ./\n`);
      };
      const aptUpdate = async () => void (await runOk('apt-get', aptArgs(aptRoot, sourceList)));
      aptCold = await best(aptUpdate, { prepare: reset });
      aptWarm = await best(aptUpdate);
    }
    const rows: Row[] = [];
    const aptLabel = 'apt-get update (http)';
    const why = 'the update verb is not in this build';
    if (cold && warm) {
      rows.push(
        row({
          bench: 'update',
          label: `${label} cold`,
          ours: cold.seconds,
          peerLabel: aptLabel,
          peer: aptCold?.seconds ?? null,
          target: { kind: 'ratio', min: 0.5 },
          runs: runsText(cold),
          note: 'ours over HTTPS with a pinned certificate and a signed index; apt over plain HTTP, unsigned Release',
        }),
      );
      rows.push(
        row({
          bench: 'update',
          label: `${label} warm (304)`,
          ours: warm.seconds,
          peerLabel: aptLabel,
          peer: aptWarm?.seconds ?? null,
          target: { kind: 'ratio', min: 1 / 1.2 },
          runs: runsText(warm),
        }),
      );
    } else {
      rows.push({ ...unavailable('update', `${label} cold`, why), peerLabel: aptLabel, peer: aptCold?.seconds ?? null });
      rows.push({ ...unavailable('update', `${label} warm (304)`, why), peerLabel: aptLabel, peer: aptWarm?.seconds ?? null });
    }
    return rows;
  } finally {
    await server.stop();
    await rm(state, { recursive: true, force: true });
  }
}
