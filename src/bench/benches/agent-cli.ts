// What a user pays through the CLI with a big index stored (issue "Scale" §1): `upgrade
// --dry-run` with 10,000 entries available and 200 installed, and one small `install`
// on top of that: wall time, and the bytes written under dbdir (counted with strace
// over write/pwrite calls on files there, in a separate untimed run).
import { mkdir, writeFile, rm, readFile, stat, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { BenchContext } from '../context.js';
import { startNginx } from '../nginx.js';
import { row, type Row } from '../report.js';
import { ensureWaptSet, pkgName } from '../small-sets.js';
import { best, cli, CLI_BIN, hasCommand, run } from '../util.js';
import { scanner } from './scan.js';

/** Sum of bytes written (return values of write-like calls) to files under `dir`, from `strace -y` output. */
export function bytesWrittenUnder(trace: string, dir: string): number {
  let total = 0;
  const re = /\b(?:write|pwrite64|writev|pwritev2?)\((\d+)<([^>]*)>[^)]*\)\s*=\s*(\d+)/;
  for (const line of trace.split('\n')) {
    const m = re.exec(line);
    if (m && m[2]!.startsWith(dir)) total += Number(m[3]);
  }
  return total;
}

async function dirSize(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += (await stat(join(e.parentPath, e.name))).size;
  }
  return n;
}

export async function benchAgentCli(ctx: BenchContext): Promise<Row[]> {
  const count = ctx.repoCount;
  const waptDir = await ensureWaptSet(ctx.work, ctx.pki, count, ctx.log);
  const { scan } = await scanner(ctx);
  await scan(waptDir);
  const tls = await ctx.tls();
  const server = await startNginx(ctx.work, tls, ctx.work);
  const state = join(ctx.work, 'agent-cli-state');
  const dbdir = join(state, 'db');
  const ini = join(state, 'wapt-get.ini');
  try {
    await rm(state, { recursive: true, force: true });
    await mkdir(state, { recursive: true });
    await writeFile(
      ini,
      [
        '[global]',
        `repo_url = ${server.httpsUrl}/${basename(waptDir)}`,
        `verify_cert = ${tls.cert}`,
        `dbdir = ${dbdir}`,
        `trusted_certs_dir = ${ctx.pki.trustedDir}`,
        `user_mode_root = ${join(state, 'root')}`,
        'use_hostpackages = 0',
        '',
      ].join('\n'),
    );
    const c = (args: string[]) => cli(['--config', ini, '-q', ...args]);
    await c(['update']);
    // 200 installed, spread over the index, none pulling a dependency (i % 10 != 0).
    const installed = Array.from({ length: 200 }, (_, k) => pkgName(k * Math.floor(count / 200) + 1));
    await c(['install', ...installed]);
    const stateBytes = await dirSize(dbdir);

    const dry = await best(async () => void (await c(['upgrade', '--dry-run'])), { runs: 5 });
    const one = pkgName(count - 1);
    // Untimed between runs: take the package away again (exit 7 NOT_INSTALLED before the first run).
    const removeOne = async () => void (await run(process.execPath, [CLI_BIN, '--config', ini, '-q', 'remove', one]));
    const install = await best(async () => void (await c(['install', one])), { prepare: removeOne, runs: 3 });

    let written: number | null = null;
    let how = 'strace not installed';
    if (hasCommand('strace')) {
      await removeOne();
      const out = join(state, 'install.strace');
      await run('strace', [
        '-f',
        '-qq',
        '-y',
        '-e',
        'trace=write,pwrite64,writev,pwritev,pwritev2',
        '-e',
        'signal=none',
        '-o',
        out,
        process.execPath,
        CLI_BIN,
        '--config',
        ini,
        '-q',
        'install',
        one,
      ]);
      written = bytesWrittenUnder(await readFile(out, 'utf8'), dbdir);
      how = 'strace -y: write/pwrite bytes to files under dbdir';
    }
    const rows: Row[] = [
      row({
        bench: 'agent-cli',
        label: `upgrade --dry-run, ${count} available, 200 installed (CLI)`,
        ours: dry.seconds,
        target: { kind: 'max', value: 0.4, unit: 's' },
        runs: `min of ${dry.runs}`,
        note: `whole process: start-up, DB open, plan; state in dbdir ${(stateBytes / 2 ** 20).toFixed(1)} MiB`,
      }),
      row({
        bench: 'agent-cli',
        label: `install 1 small package, ${count}-entry index stored (CLI)`,
        ours: install.seconds,
        target: { kind: 'max', value: 0.5, unit: 's' },
        runs: `min of ${install.runs}`,
        note: 'verify + extract + record, tiny code-free package, from nginx over HTTPS',
      }),
    ];
    if (written !== null) {
      rows.push(
        row({
          bench: 'agent-cli',
          label: `state bytes written by that install`,
          ours: written / 1e6,
          unit: 'MB',
          target: { kind: 'max', value: 1.048576, unit: 'MB (1 MiB)' },
          runs: '1 run',
          note: how,
        }),
      );
    }
    return rows;
  } finally {
    await server.stop();
    await rm(state, { recursive: true, force: true });
  }
}
