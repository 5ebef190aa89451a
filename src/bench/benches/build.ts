// build-1g: `wapt-get build-package` of a directory holding the big payload, vs
// zip (-0 stored, -6 deflated) plus openssl dgst of the payload (our build hashes
// in the same pass, the peer needs a second read). And startup: `--version`.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from '../context.js';
import { ensureSourceDir, PAYLOAD_NAME, type PayloadKind } from '../fixtures.js';
import { row, type Row } from '../report.js';
import { best, cli, fmtSize, MiB, q, run, sh } from '../util.js';

const runsText = (t: { runs: number }) => (t.runs > 1 ? `min of ${t.runs}` : '1 run');

async function buildRow(ctx: BenchContext, kind: PayloadKind): Promise<Row> {
  const size = ctx.bigSize;
  const { dir } = await ensureSourceDir(ctx.work, kind, size);
  const outDir = join(ctx.work, `pkg-${kind}-${size / MiB}m`);
  const peerZip = join(ctx.work, `peer-${kind}.zip`);
  let built = '';
  const ours = await best(
    async () => {
      const r = await cli(['--json', 'build-package', '--key', ctx.pki.keyPath, '--cert', ctx.pki.certPath, '-o', outDir, dir], { captureStdout: true });
      built = (JSON.parse(r.stdout) as { built: { path: string }[] }).built[0]!.path;
    },
    {
      prepare: async () => {
        await rm(outDir, { recursive: true, force: true });
        await mkdir(outDir, { recursive: true });
      },
    },
  );
  ctx.big.register(kind, size, built); // the verify benchmarks reuse this package
  const level = kind === 'stored' ? '-0' : '-6';
  const peer = await best(
    async () => {
      await sh(`cd ${q(dir)} && zip -q -r ${level} ${q(peerZip)} . && openssl dgst -sha256 ${PAYLOAD_NAME[kind]} >/dev/null`);
    },
    { prepare: () => rm(peerZip, { force: true }) },
  );
  await rm(peerZip, { force: true });
  return row({
    bench: 'build-1g',
    label: `build-${fmtSize(size).replace(' ', '')} ${kind}, wapt-get build-package`,
    ours: ours.seconds,
    bytes: size,
    peerLabel: `zip -r ${level} + openssl dgst`,
    peer: peer.seconds,
    runs: runsText(ours),
    note: kind === 'stored' ? 'ours also fsyncs the package before renaming it; zip does not' : undefined,
  });
}

export async function benchBuild(ctx: BenchContext): Promise<Row[]> {
  return [await buildRow(ctx, 'stored'), await buildRow(ctx, 'deflated')];
}

export async function benchStartup(_ctx: BenchContext): Promise<Row[]> {
  const version = await best(async () => (await cli(['--version'])).seconds, { runs: 10 });
  const node = await best(async () => (await run(process.execPath, ['-e', '0'])).seconds, { runs: 10 });
  return [
    row({
      bench: 'startup',
      label: 'startup, wapt-get --version',
      ours: version.seconds,
      peerLabel: 'node -e 0',
      peer: node.seconds,
      runs: 'min of 10',
      note: `our own start-up cost: ${((version.seconds - node.seconds) * 1000).toFixed(0)} ms over bare node`,
    }),
  ];
}
