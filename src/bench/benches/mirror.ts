// mirror (issue 12 §5): `wapt-get mirror` of the 10,000-package set over HTTPS from a real
// nginx, cold and after one change, vs `wget --mirror` walking a listing of the same files
// on the same nginx. Not the same work: ours verifies the index statement, every entry
// signature and every downloaded package (signature, digest) and switches atomically;
// wget verifies nothing and writes files in place (-N compares dates, not digests).
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { buildPackage, controlFromObject, serializeControl } from '../../package/index.js';
import type { BenchContext } from '../context.js';
import { startNginx } from '../nginx.js';
import { row, unavailable, type Row } from '../report.js';
import { ensureWaptSet } from '../small-sets.js';
import { best, cli, hasCommand, q, sh, type Timing } from '../util.js';
import { scanner } from './scan.js';

/** The HTML listing `wget --mirror` follows (nginx serves no autoindex here). */
async function writeListing(dir: string): Promise<void> {
  const names = ['Packages', ...(await readdir(dir)).filter((n) => n.endsWith('.wapt')).sort()];
  await writeFile(join(dir, 'index.html'), `<html><body>\n${names.map((n) => `<a href="${n}">${n}</a>`).join('\n')}\n</body></html>\n`);
}

/** One change at the origin: a new package in, the first one out, the index signed again. */
async function changeOne(ctx: BenchContext, origin: string, scan: (dir: string) => Promise<void>): Promise<void> {
  const src = join(ctx.work, 'src-mirror-change');
  await rm(src, { recursive: true, force: true });
  await mkdir(join(src, 'WAPT'), { recursive: true });
  const control = controlFromObject({
    package: 'bench-mirror-new',
    version: '1.0-1',
    architecture: 'all',
    section: 'base',
    maturity: 'PROD',
    description: 'one change',
  });
  await writeFile(join(src, 'WAPT', 'control'), serializeControl(control));
  await writeFile(join(src, 'readme.txt'), 'new\n');
  await buildPackage(src, { signer: ctx.pki.signer, outDir: origin, date: new Date(), reproducible: false });
  const first = (await readdir(origin)).filter((n) => n.startsWith('bench-pkg-')).sort()[0]!;
  await rm(join(origin, first));
  await scan(origin);
  await writeListing(origin);
}

export async function benchMirror(ctx: BenchContext): Promise<Row[]> {
  const count = ctx.repoCount;
  const label = `mirror-${count >= 1000 ? `${count / 1000}k` : count}`;
  if (!(await ctx.hasVerb('mirror'))) return [unavailable('mirror', `${label} cold`, 'the mirror verb is not in this build')];
  const set = await ensureWaptSet(ctx.work, ctx.pki, count, ctx.log);
  const { scan } = await scanner(ctx);
  // the origin: hard links to the cached set (its files stay untouched), signed, with a listing for wget
  const origin = join(ctx.work, 'peer-mirror-origin');
  await rm(origin, { recursive: true, force: true });
  await sh(`cp -al ${q(set)} ${q(origin)}`);
  await scan(origin);
  await writeListing(origin);
  const tls = await ctx.tls();
  const server = await startNginx(ctx.work, tls, ctx.work);
  const url = `${server.httpsUrl}/${basename(origin)}`;
  const state = join(ctx.work, 'peer-mirror-state');
  const ours = join(state, 'ours');
  const theirs = join(state, 'wget');
  try {
    await mkdir(state, { recursive: true });
    const ini = join(state, 'wapt-get.ini');
    await writeFile(
      ini,
      ['[global]', `repo_url = ${url}`, `verify_cert = ${tls.cert}`, `trusted_certs_dir = ${ctx.pki.trustedDir}`, `dbdir = ${join(state, 'db')}`, ''].join(
        '\n',
      ),
    );
    const mirror = async () => void (await cli(['--config', ini, '-q', 'mirror', url, ours]));
    const haveWget = hasCommand('wget');
    // the bench nginx serves index.html as octet-stream: --force-html makes wget walk it as the listing it is
    const wget = async () =>
      void (await sh(
        `wget --mirror --no-parent -q -nH --cut-dirs=1 --ca-certificate=${q(tls.cert)} -P ${q(theirs)} --force-html --base=${q(`${url}/`)} -i ${q(join(origin, 'index.html'))}`,
      ));
    const one = { runs: 1 };
    const cold = await best(mirror, { ...one, prepare: () => rm(ours, { recursive: true, force: true }) });
    const wgetCold: Timing | null = haveWget ? await best(wget, { ...one, prepare: () => rm(theirs, { recursive: true, force: true }) }) : null;
    await changeOne(ctx, origin, scan);
    const incremental = await best(mirror, one);
    const wgetIncremental: Timing | null = haveWget ? await best(wget, one) : null;
    const peerLabel = haveWget ? 'wget --mirror (https, verifies nothing)' : 'wget not installed';
    return [
      row({
        bench: 'mirror',
        label: `${label} cold`,
        ours: cold.seconds,
        peerLabel,
        peer: wgetCold?.seconds ?? null,
        runs: '1 run',
        note: `ours: statement + ${count} entry signatures, ${count} packages downloaded and verified, atomic switch; wget: ${count} GETs written in place`,
      }),
      row({
        bench: 'mirror',
        label: `${label} after one change`,
        ours: incremental.seconds,
        peerLabel,
        peer: wgetIncremental?.seconds ?? null,
        runs: '1 run',
        note: `ours: the new index verified again (${count} entry signatures), 1 package fetched, 1 removed; wget: the listing and a conditional request per file`,
      }),
    ];
  } finally {
    await server.stop();
    await rm(state, { recursive: true, force: true });
    await rm(origin, { recursive: true, force: true });
  }
}
