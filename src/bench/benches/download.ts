// download-1g: our HttpClient.fetchToFile (TLS with the pinned server certificate,
// SHA-256 checked while writing, .part then rename) vs curl --cacert, over loopback
// HTTPS from nginx.
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { sha256File } from '../../package/index.js';
import { HttpClient, parseVerifyCert } from '../../repo/index.js';
import type { BenchContext } from '../context.js';
import { startNginx } from '../nginx.js';
import { row, type Row } from '../report.js';
import { best, fmtSize, runOk } from '../util.js';

const runsText = (t: { runs: number }) => (t.runs > 1 ? `min of ${t.runs}` : '1 run');

export async function benchDownload(ctx: BenchContext): Promise<Row[]> {
  const size = ctx.bigSize;
  const pkg = await ctx.big.get('stored', size);
  const expected = await sha256File(pkg);
  const tls = await ctx.tls();
  const server = await startNginx(ctx.work, tls, ctx.work);
  const url = `${server.httpsUrl}/${relative(ctx.work, pkg)}`;
  const dest = join(ctx.work, 'download-ours.wapt');
  const curlDest = join(ctx.work, 'download-curl.wapt');
  const http = new HttpClient({
    verifyCert: parseVerifyCert(tls.cert, ctx.work),
    connectTimeoutMs: 30_000,
    readTimeoutMs: 30_000,
    retries: 0,
    retryBaseMs: 200,
    maxRedirects: 5,
    allowInsecureHttp: false,
    userAgent: 'wapt-get-bench',
  });
  try {
    const ours = await best(
      async () => {
        const r = await http.fetchToFile(url, dest, { expectedSha256: expected });
        if (r.sha256 !== expected) throw new Error(`download: sha256 ${r.sha256}, expected ${expected}`);
      },
      { prepare: () => rm(dest, { force: true }) },
    );
    const curl = await best(async () => void (await runOk('curl', ['-sS', '--fail', '--cacert', tls.cert, '-o', curlDest, url])), {
      prepare: () => rm(curlDest, { force: true }),
    });
    return [
      row({
        bench: 'download-1g',
        label: `download-${fmtSize(size).replace(' ', '')}, HttpClient.fetchToFile`,
        ours: ours.seconds,
        bytes: size,
        peerLabel: 'curl --cacert',
        peer: curl.seconds,
        target: { kind: 'ratio', min: 0.8 }, // issue 12 §4
        runs: runsText(ours),
        note: 'ours also checks SHA-256 while writing; curl does not hash',
      }),
    ];
  } finally {
    await http.close();
    await server.stop();
    await rm(dest, { force: true });
    await rm(curlDest, { force: true });
  }
}
