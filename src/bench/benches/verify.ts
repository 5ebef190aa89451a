// verify-1g (issue: verify speed) and rss-verify (issue: memory while verifying).
// Ours: verifyPackage in-process and `wapt-get verify`; peers: unzip -p | openssl
// dgst (what a person would do by hand) and raw openssl dgst (the hashing limit).
import { verifyPackage } from '../../package/index.js';
import type { BenchContext } from '../context.js';
import { ensureSourceDir, type PayloadKind } from '../fixtures.js';
import { row, type Row } from '../report.js';
import { best, CLI_BIN, fmtSize, MiB, peakRss, q, sh, cli } from '../util.js';

const runsText = (t: { runs: number }) => (t.runs > 1 ? `min of ${t.runs}` : '1 run');

async function verifyRows(ctx: BenchContext, kind: PayloadKind): Promise<Row[]> {
  const size = ctx.bigSize;
  const pkg = await ctx.big.get(kind, size);
  const { payload } = await ensureSourceDir(ctx.work, kind, size);
  const name = `verify-${fmtSize(size).replace(' ', '')} ${kind}`;
  const trusted = ctx.pki.trustedDir;

  const inProc = await best(async () => {
    await verifyPackage(pkg, { trust: ctx.pki.trust });
  });
  const viaCli = await best(async () => {
    await cli(['verify', '--trusted', trusted, pkg]);
  });
  const unzipPeer = await best(async () => {
    await sh(`unzip -p ${q(pkg)} | openssl dgst -sha256 >/dev/null`);
  });
  const raw = await best(async () => {
    await sh(`openssl dgst -sha256 ${q(payload)} >/dev/null`);
  });
  // Led by what a user runs (the CLI) against the plain hashing limit; the unzip rows
  // follow, labelled: unzip also computes CRC-32, which our verify does not need (W-D3 is SHA-256).
  const rows: Row[] = [
    row({
      bench: 'verify-1g',
      label: `${name}, wapt-get verify`,
      ours: viaCli.seconds,
      bytes: size,
      peerLabel: 'openssl dgst payload',
      peer: raw.seconds,
      target: { kind: 'ratio', min: 0.8 },
      runs: runsText(viaCli),
      note: kind === 'deflated' ? 'ours inflates then hashes; openssl hashes the raw payload file' : 'CLI start-up, signatures, chain and every member hash',
    }),
    row({
      bench: 'verify-1g',
      label: `${name}, verifyPackage (in-process)`,
      ours: inProc.seconds,
      bytes: size,
      peerLabel: 'openssl dgst payload',
      peer: raw.seconds,
      target: { kind: 'ratio', min: 0.8 },
      runs: runsText(inProc),
    }),
    row({
      bench: 'verify-1g',
      label: `${name}, wapt-get verify vs unzip`,
      ours: viaCli.seconds,
      bytes: size,
      peerLabel: 'unzip -p | openssl dgst',
      peer: unzipPeer.seconds,
      target: { kind: 'ratio', min: 1 },
      runs: runsText(viaCli),
      note: 'the peer also computes CRC-32 (unzip): flatters us',
    }),
  ];
  return rows;
}

export async function benchVerify(ctx: BenchContext): Promise<Row[]> {
  return [...(await verifyRows(ctx, 'stored')), ...(await verifyRows(ctx, 'deflated'))];
}

/** Peak RSS of `wapt-get verify` at two sizes: it must not grow with the package. */
export async function benchRssVerify(ctx: BenchContext): Promise<Row[]> {
  const sizes = ctx.quick ? [64 * MiB, 256 * MiB] : [256 * MiB, 1024 * MiB];
  const rows: Row[] = [];
  const variants: [PayloadKind, number][] = [...sizes.map((s) => ['stored', s] as [PayloadKind, number]), ['deflated', ctx.bigSize]];
  for (const [kind, size] of variants) {
    const pkg = await ctx.big.get(kind, size);
    const r = await peakRss(process.execPath, [CLI_BIN, 'verify', '--trusted', ctx.pki.trustedDir, pkg], { cwd: ctx.work });
    rows.push(
      row({
        bench: 'rss-verify',
        label: `rss wapt-get verify ${fmtSize(size)} ${kind}`,
        ours: r.mb,
        unit: 'MB',
        target: { kind: 'max', value: 150, unit: 'MB' },
        runs: '1 run',
        note: r.how === '/usr/bin/time %M' ? undefined : r.how,
      }),
    );
  }
  return rows;
}
