// `npm run bench [-- --quick] [-- --only NAME[,NAME]]`: speed as a benchmark, not
// a timed test. Each figure is compared with a peer tool measured in the same run
// on the same files; PASS/MISS against the issue's target is informational and the
// exit code is 0 unless a benchmark crashed. Results: a table on stdout and
// <work>/bench-results.json (work = $BENCH_DIR or <tmpdir>/wapt-get-bench).
import { readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { benchDbPersist, benchResolve } from './benches/agent.js';
import { benchAgentCli } from './benches/agent-cli.js';
import { benchBuild, benchStartup } from './benches/build.js';
import { benchDownload } from './benches/download.js';
import { benchFleet } from './benches/fleet.js';
import { benchInstall } from './benches/install.js';
import { benchMirror } from './benches/mirror.js';
import { benchParallel } from './benches/parallel.js';
import { benchScan } from './benches/scan.js';
import { benchUpdate } from './benches/update.js';
import { benchRssVerify, benchVerify } from './benches/verify.js';
import { makeContext, type BenchContext } from './context.js';
import { renderMarkdown, renderTable, type Row } from './report.js';

type Bench = (ctx: BenchContext) => Promise<Row[]>;

/** In run order: build first, so verify reuses the packages it made. */
const BENCHES: [string, Bench][] = [
  ['build-1g', benchBuild],
  ['verify-1g', benchVerify],
  ['rss-verify', benchRssVerify],
  ['startup', benchStartup],
  ['scan', benchScan],
  ['update', benchUpdate],
  ['agent-cli', benchAgentCli],
  ['download-1g', benchDownload],
  ['install-1g', benchInstall],
  ['parallel', benchParallel],
  ['mirror', benchMirror],
  ['resolve-10k', benchResolve],
  ['db-persist-10k', benchDbPersist],
  ['fleet', benchFleet],
];
const ALIASES: Record<string, string> = {
  'scan-1k': 'scan',
  'scan-10k': 'scan',
  verify: 'verify-1g',
  build: 'build-1g',
  download: 'download-1g',
  install: 'install-1g',
};

interface Args {
  quick: boolean;
  only: Set<string> | null;
  markdown: boolean;
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, only: null, markdown: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') a.quick = true;
    else if (arg === '--markdown') a.markdown = true;
    else if (arg === '--keep') a.keep = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const v = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!v) throw new Error('--only needs NAME[,NAME]');
      a.only = new Set(v.split(',').map((n) => ALIASES[n.trim()] ?? n.trim()));
      const unknown = [...a.only].filter((n) => !BENCHES.some(([b]) => b === n));
      if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${BENCHES.map(([b]) => b).join(', ')}`);
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`usage: node dist/bench/main.js [--quick] [--only ${BENCHES.map(([b]) => b).join(',')}] [--markdown] [--keep]\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return a;
}

/** Deletes the big files (payloads, big packages); keeps the PKI and the cached small-package sets. */
async function cleanBig(work: string): Promise<void> {
  for (const n of await readdir(work)) {
    if (/^(src-|pkg-|repo-install|install-|download-|peer-)/.test(n)) await rm(join(work, n), { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const work = process.env.BENCH_DIR ?? join(os.tmpdir(), 'wapt-get-bench');
  const ctx = await makeContext(work, args.quick);
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
  const loadStart = os.loadavg()[0]!.toFixed(1);
  ctx.log(`wapt-get bench${args.quick ? ' --quick' : ''} in ${work}\nmachine: ${machine}`);
  const rows: Row[] = [];
  let crashed = 0;
  const started = Date.now();
  try {
    for (const [name, bench] of BENCHES) {
      if (args.only && !args.only.has(name)) continue;
      const t0 = Date.now();
      ctx.log(`== ${name}`);
      try {
        const got = await bench(ctx);
        rows.push(...got);
        for (const r of got)
          ctx.log(`   ${r.label}: ${r.ours === null ? 'n/a' : r.ours.toFixed(3)} ${r.unit}${r.peer !== null ? ` / ${r.peerLabel} ${r.peer.toFixed(3)}` : ''}`);
      } catch (err) {
        crashed++;
        const msg = (err as Error).stack ?? String(err);
        ctx.log(`   CRASHED: ${msg}`);
        rows.push({
          bench: name,
          label: name,
          ours: null,
          unit: 's',
          peerLabel: '—',
          peer: null,
          ratio: null,
          target: '—',
          pass: null,
          runs: '—',
          note: `CRASHED: ${(err as Error).message.split('\n')[0]}`,
        });
      }
      ctx.log(`   (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  } finally {
    if (!args.keep) await cleanBig(work);
  }
  const total = (Date.now() - started) / 1000;
  // Other work on the machine skews every figure; the ratios (same run, same files) less so.
  const load = `load average ${loadStart} at start, ${os.loadavg()[0]!.toFixed(1)} at end`;
  process.stdout.write(`\nwapt-get benchmarks${args.quick ? ' (--quick)' : ''} — ${machine}; ${load}\n`);
  process.stdout.write('ratio = peer time / our time (> 1: we are faster); PASS/MISS is informational.\n\n');
  process.stdout.write(`${renderTable(rows)}\n\ntotal ${total.toFixed(0)} s\n`);
  if (args.markdown) process.stdout.write(`\n${renderMarkdown(rows)}\n`);
  const json = join(work, 'bench-results.json');
  await writeFile(json, JSON.stringify({ date: new Date().toISOString(), quick: args.quick, machine, load, totalSeconds: total, rows }, null, 2));
  process.stdout.write(`results: ${json}\n`);
  return crashed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
