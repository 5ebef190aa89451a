// parallel-100: `wapt-get download` of 100 packages of 2 MiB (max_parallel_downloads = 4,
// each verified in full into the cache: size, SHA-256, manifest, signature, signer) vs a
// sequential `curl` loop and `curl --parallel --parallel-max 4` (both only save the
// bytes), over loopback HTTPS from the same nginx.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPackage, controlFromObject, serializeControl } from '../../package/index.js';
import type { BenchContext } from '../context.js';
import { writeRandomFile } from '../fixtures.js';
import { startNginx } from '../nginx.js';
import { row, unavailable, type Row } from '../report.js';
import { best, cli, hasCommand, MiB, q, sh } from '../util.js';
import { scanner } from './scan.js';

const COUNT = 100;
const SIZE = 2 * MiB;
const runsText = (t: { runs: number }) => (t.runs > 1 ? `min of ${t.runs}` : '1 run');
const name = (i: number) => `bench-par-${String(i).padStart(3, '0')}`;

/** `<work>/repo-parallel/`: COUNT signed packages with a 2 MiB random payload each, indexed. */
async function ensureRepo(ctx: BenchContext): Promise<string> {
  const dir = join(ctx.work, 'repo-parallel');
  const marker = `${dir}.complete`;
  if (existsSync(marker)) return dir;
  ctx.log(`making ${COUNT} packages of 2 MiB in ${dir}…`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const src = join(ctx.work, 'repo-parallel-src');
  for (let i = 0; i < COUNT; i++) {
    await rm(src, { recursive: true, force: true });
    await mkdir(join(src, 'WAPT'), { recursive: true });
    const control = controlFromObject({ package: name(i), version: '1.0-1', architecture: 'all', section: 'base', description: `parallel bench ${i}` });
    await writeFile(join(src, 'WAPT', 'control'), serializeControl(control));
    await writeRandomFile(join(src, 'payload.iso'), SIZE); // stored, as in download-1g
    await buildPackage(src, { signer: ctx.pki.signer, outDir: dir, date: new Date(), reproducible: false });
  }
  await rm(src, { recursive: true, force: true });
  await (await scanner(ctx)).scan(dir);
  await writeFile(marker, '');
  return dir;
}

export async function benchParallel(ctx: BenchContext): Promise<Row[]> {
  const label = `parallel-${COUNT}×2MiB`;
  if (!(await ctx.hasVerb('download'))) return [unavailable('parallel', label, 'the download verb is not in this build')];
  const repo = await ensureRepo(ctx);
  const files = (await readdir(repo)).filter((n) => n.endsWith('.wapt')).sort();
  const tls = await ctx.tls();
  const server = await startNginx(ctx.work, tls, ctx.work);
  const state = join(ctx.work, 'parallel-state');
  const ini = join(state, 'wapt-get.ini');
  const peerDir = join(ctx.work, 'parallel-peer');
  const base = `${server.httpsUrl}/repo-parallel`;
  try {
    await rm(state, { recursive: true, force: true });
    await mkdir(state, { recursive: true });
    await writeFile(
      ini,
      [
        '[global]',
        `repo_url = ${base}`,
        `verify_cert = ${tls.cert}`,
        `dbdir = ${join(state, 'db')}`,
        `trusted_certs_dir = ${ctx.pki.trustedDir}`,
        'max_parallel_downloads = 4',
        '',
      ].join('\n'),
    );
    await cli(['--config', ini, '-q', 'update']);
    const names = Array.from({ length: COUNT }, (_, i) => name(i));
    const ours = await best(async () => void (await cli(['--config', ini, '-q', 'download', ...names])), {
      prepare: () => rm(join(state, 'db', 'cache'), { recursive: true, force: true }),
    });
    const urls = files.map((f) => `${base}/${f}`);
    const resetPeer = async () => {
      await rm(peerDir, { recursive: true, force: true });
      await mkdir(peerDir, { recursive: true });
    };
    const loop = `cd ${q(peerDir)} && for u in ${urls.map(q).join(' ')}; do curl -sS --fail --cacert ${q(tls.cert)} -O "$u" || exit 1; done`;
    const seq = await best(async () => void (await sh(loop)), { prepare: resetPeer });
    const rows: Row[] = [
      row({
        bench: 'parallel',
        label: `${label}, wapt-get download (4 at once) vs curl loop`,
        ours: ours.seconds,
        bytes: COUNT * SIZE,
        peerLabel: 'sequential curl',
        peer: seq.seconds,
        target: { kind: 'ratio', min: 1 },
        runs: `${runsText(ours)} / peer ${runsText(seq)}`,
        note: 'ours verifies each package in full (size, SHA-256, manifest, signature, signer); includes node start-up and reading the index',
      }),
    ];
    const parallelOk =
      hasCommand('curl') &&
      (await sh('curl --help all | grep -q -- --parallel-max').then(
        () => true,
        () => false,
      ));
    if (!parallelOk) rows.push(unavailable('parallel', `${label} vs curl --parallel`, 'this curl has no --parallel'));
    else {
      const par = `cd ${q(peerDir)} && curl -sS --fail --parallel --parallel-max 4 --cacert ${q(tls.cert)} ${urls.map((u) => `-O ${q(u)}`).join(' ')}`;
      const p = await best(async () => void (await sh(par)), { prepare: resetPeer });
      rows.push(
        row({
          bench: 'parallel',
          label: `${label}, wapt-get download (4 at once) vs curl --parallel`,
          ours: ours.seconds,
          bytes: COUNT * SIZE,
          peerLabel: 'curl --parallel --parallel-max 4',
          peer: p.seconds,
          target: { kind: 'ratio', min: 0.8 },
          runs: `${runsText(ours)} / peer ${runsText(p)}`,
        }),
      );
    }
    return rows;
  } finally {
    await server.stop();
    await rm(state, { recursive: true, force: true });
    await rm(peerDir, { recursive: true, force: true });
  }
}
