// install-1g: `wapt-get install` of a `dir` package holding the big payload, end to
// end from nginx (download, verify, extract, setup.mjs copies files/ under
// user_mode_root), with its peak RSS; vs curl + openssl dgst + unzip of the same file.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from '../context.js';
import { writeRandomFile } from '../fixtures.js';
import { startNginx } from '../nginx.js';
import { row, unavailable, type Row } from '../report.js';
import { best, cli, CLI_BIN, fmtSize, MiB, peakRss, q, sh } from '../util.js';
import { scanner } from './scan.js';

const PKG = 'bench-install';
const runsText = (t: { runs: number }) => (t.runs > 1 ? `min of ${t.runs}` : '1 run');

/** The `dir` template (via the real make-template) with the big random payload in files/. */
async function ensureInstallSource(ctx: BenchContext, size: number): Promise<string> {
  const dir = join(ctx.work, `src-install-${size / MiB}m`);
  const marker = `${dir}.complete`;
  if (!existsSync(marker)) {
    await rm(dir, { recursive: true, force: true });
    await cli(['make-template', 'dir', PKG, '--dir', dir, '--package-version', '1.0-1', '--description', 'benchmark dir package']);
    await writeRandomFile(join(dir, 'files', 'payload.iso'), size);
    await writeFile(marker, '');
  }
  return dir;
}

export async function benchInstall(ctx: BenchContext): Promise<Row[]> {
  const size = ctx.bigSize;
  const name = `install-${fmtSize(size).replace(' ', '')}`;
  if (!(await ctx.hasVerb('install')) || !(await ctx.hasVerb('update'))) {
    return [
      unavailable('install-1g', name, 'the install/update verbs are not in this build'),
      unavailable('install-1g', `rss ${name}`, 'the install verb is not in this build'),
    ];
  }
  const src = await ensureInstallSource(ctx, size);
  const repo = join(ctx.work, 'repo-install');
  await rm(repo, { recursive: true, force: true });
  await mkdir(repo, { recursive: true });
  await cli(['-q', 'build-package', '--key', ctx.pki.keyPath, '--cert', ctx.pki.certPath, '-o', repo, src]);
  await (await scanner(ctx)).scan(repo);
  const pkgFile = (await readdir(repo)).find((n) => n.endsWith('.wapt'))!;

  const tls = await ctx.tls();
  const server = await startNginx(ctx.work, tls, ctx.work);
  const state = join(ctx.work, 'install-state');
  const ini = join(state, 'wapt-get.ini');
  const target = join(state, 'root');
  const config = ['--config', ini];
  try {
    let rss = 0;
    let rssHow = '';
    const ours = await best(
      async () => {
        const r = await peakRss(process.execPath, [CLI_BIN, ...config, '-q', 'install', PKG], { cwd: state });
        rss = Math.max(rss, r.mb);
        rssHow = r.how;
        const copied = join(target, 'opt', PKG, 'payload.iso');
        const st = await stat(copied).catch(() => null);
        if (st?.size !== size) throw new Error(`install: ${copied} is missing or has the wrong size`);
        return r.seconds;
      },
      {
        prepare: async () => {
          await rm(state, { recursive: true, force: true });
          await mkdir(target, { recursive: true });
          await writeFile(
            ini,
            [
              '[global]',
              `repo_url = ${server.httpsUrl}/repo-install`,
              `verify_cert = ${tls.cert}`,
              `dbdir = ${join(state, 'db')}`,
              `trusted_certs_dir = ${ctx.pki.trustedDir}`,
              `user_mode_root = ${target}`,
              '',
            ].join('\n'),
          );
          await cli([...config, '-q', 'update']);
        },
      },
    );
    const peerDir = join(ctx.work, 'install-peer');
    const peerFile = join(ctx.work, 'install-peer.wapt');
    const peer = await best(
      async () => {
        await sh(
          `curl -sS --fail --cacert ${q(tls.cert)} -o ${q(peerFile)} ${q(`${server.httpsUrl}/repo-install/${pkgFile}`)} && openssl dgst -sha256 ${q(peerFile)} >/dev/null && unzip -q -o ${q(peerFile)} -d ${q(peerDir)}`,
        );
      },
      { prepare: () => Promise.all([rm(peerDir, { recursive: true, force: true }), rm(peerFile, { force: true })]).then(() => undefined) },
    );
    await rm(peerDir, { recursive: true, force: true });
    await rm(peerFile, { force: true });
    return [
      row({
        bench: 'install-1g',
        label: `${name}, wapt-get install`,
        ours: ours.seconds,
        bytes: size,
        peerLabel: 'curl + openssl dgst + unzip',
        peer: peer.seconds,
        target: { kind: 'ratio', min: 1 / 1.3 },
        runs: runsText(ours),
        note: 'ours also verifies signatures and runs setup.mjs, which copies files/ to the target (a second write of the payload)',
      }),
      row({
        bench: 'install-1g',
        label: `rss ${name}, wapt-get install`,
        ours: rss,
        unit: 'MB',
        target: { kind: 'max', value: 150, unit: 'MB' },
        runs: ours.runs > 1 ? `max of ${ours.runs}` : '1 run',
        note: `largest single process (CLI or hook child), ${rssHow}`,
      }),
    ];
  } finally {
    await server.stop();
    await rm(state, { recursive: true, force: true });
    await rm(repo, { recursive: true, force: true });
  }
}
