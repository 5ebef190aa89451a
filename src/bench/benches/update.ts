// update cold / warm: `wapt-get update` against a real nginx (HTTPS, pinned
// server certificate) serving the signed index of the big small-package set, vs
// `apt-get update` against the same nginx (plain HTTP) serving a flat apt repo of
// as many .debs. The fair peer verifies too: a gpg-clearsigned InRelease checked
// with a throw-away key (`signed-by=`); the `[trusted=yes]` rows are kept, labelled.
// apt's own state (/etc/apt, /var/lib/apt) is never touched.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { BenchContext } from '../context.js';
import { startNginx } from '../nginx.js';
import { row, unavailable, type Row } from '../report.js';
import { ensureDebSet, ensureWaptSet } from '../small-sets.js';
import { best, cli, CLI_BIN, hasCommand, peakRss, q, runOk, sh, type Timing } from '../util.js';
import { scanner } from './scan.js';

const runsText = (t: { runs: number }) => (t.runs > 1 ? `min of ${t.runs}` : '1 run');

/** Packages, Packages.gz and an unsigned Release in the .deb directory (a flat repo). */
async function prepareAptRepo(debDir: string): Promise<void> {
  await sh(
    `cd ${q(debDir)} && rm -f Packages Packages.gz Release InRelease && apt-ftparchive packages . > Packages && gzip -k -f Packages && apt-ftparchive release . > ../Release.tmp && mv ../Release.tmp Release`,
  );
}

/**
 * A throw-away RSA-3072 gpg key (no passphrase, in its own GNUPGHOME), the Release
 * clearsigned as InRelease, and the public key exported for `signed-by=`.
 */
async function signAptRepo(debDir: string, gpgHome: string): Promise<string> {
  const pub = join(gpgHome, 'bench-archive.gpg');
  await rm(gpgHome, { recursive: true, force: true });
  await mkdir(gpgHome, { recursive: true, mode: 0o700 });
  const env = { GNUPGHOME: gpgHome };
  await sh(`gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-gen-key 'wapt-get bench archive <bench@localhost>' rsa3072 sign never`, {
    env,
  });
  await sh(`gpg --batch --quiet --export > ${q(pub)}`, { env });
  await sh(`cd ${q(debDir)} && gpg --batch --quiet --yes --clearsign -o InRelease Release`, { env });
  return pub;
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
  const haveGpg = haveApt && hasCommand('gpg');
  if (haveApt) await prepareAptRepo(debDir);
  const aptKey = haveGpg ? await signAptRepo(debDir, join(ctx.work, 'bench-gnupg')) : null;

  const tls = await ctx.tls();
  const server = await startNginx(ctx.work, tls, ctx.work);
  const state = join(ctx.work, 'update-state');
  try {
    await mkdir(state, { recursive: true });
    // --- ours
    let cold: Timing | null = null;
    let warm: Timing | null = null;
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
    // --- apt: the same flat repository, once unsigned ([trusted=yes]) and once gpg-signed (signed-by=)
    const aptRun = async (option: string): Promise<{ cold: Timing; warm: Timing }> => {
      const aptRoot = join(state, `apt-${option.replace(/[^a-z]/g, '')}`);
      const sourceList = join(aptRoot, 'sources.list');
      const reset = async () => {
        await rm(aptRoot, { recursive: true, force: true });
        await mkdir(join(aptRoot, 'lists', 'partial'), { recursive: true });
        await mkdir(join(aptRoot, 'cache', 'archives', 'partial'), { recursive: true });
        await writeFile(sourceList, `deb [${option}] ${server.httpUrl}/${basename(debDir)}/ ./\n`);
      };
      const aptUpdate = async () => void (await runOk('apt-get', aptArgs(aptRoot, sourceList)));
      return { cold: await best(aptUpdate, { prepare: reset }), warm: await best(aptUpdate) };
    };
    const trusted = haveApt ? await aptRun('trusted=yes') : null;
    const signed = aptKey ? await aptRun(`signed-by=${aptKey}`) : null;
    // Peak RSS of a cold update (fresh DB): what the issue's 150 MB goal is about.
    let rss: number | null = null;
    if (hasUpdate) {
      await rm(join(state, 'db'), { recursive: true, force: true });
      rss = (await peakRss(process.execPath, [CLI_BIN, '--config', join(state, 'wapt-get.ini'), '-q', 'update'], { cwd: ctx.work })).mb;
    }
    const rows: Row[] = [];
    const why = 'the update verb is not in this build';
    const peers: [string, { cold: Timing; warm: Timing } | null, string][] = [
      ['apt-get update (http, gpg InRelease)', signed, 'apt checks one gpg signature over InRelease (Packages hashed against it); ours: every entry signature'],
      ['apt-get update (http, [trusted=yes])', trusted, 'apt verifies NOTHING here (unsigned Release): a lower bound, not a peer doing the same work'],
    ];
    for (const [peerLabel, peer, note] of peers) {
      if (!cold || !warm) {
        rows.push({ ...unavailable('update', `${label} cold`, why), peerLabel, peer: peer?.cold.seconds ?? null });
        continue;
      }
      rows.push(
        row({
          bench: 'update',
          label: `${label} cold`,
          ours: cold.seconds,
          peerLabel,
          peer: peer?.cold.seconds ?? null,
          target: { kind: 'ratio', min: 0.5 },
          runs: runsText(cold),
          note: `ours: HTTPS with a pinned certificate, signed statement + ${count} entry signatures. ${note}`,
        }),
        row({
          bench: 'update',
          label: `${label} warm (304)`,
          ours: warm.seconds,
          peerLabel,
          peer: peer?.warm.seconds ?? null,
          target: { kind: 'ratio', min: 0.6 },
          runs: runsText(warm),
        }),
      );
    }
    if (rss !== null) {
      rows.push(
        row({
          bench: 'update',
          label: `rss wapt-get update ${label.slice('update-'.length)} cold`,
          ours: rss,
          unit: 'MB',
          target: { kind: 'max', value: 150, unit: 'MB' },
          runs: '1 run',
        }),
      );
    }
    return rows;
  } finally {
    await server.stop();
    await rm(state, { recursive: true, force: true });
  }
}
