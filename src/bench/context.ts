// What every benchmark gets: sizes for this mode, the work dir, the PKI, the big
// packages, a TLS pair for nginx, and which CLI verbs exist in this build.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureSelfSignedTls } from '../server/index.js';
import { BigPackages, ensurePki, type Pki } from './fixtures.js';
import { cli, MiB } from './util.js';

export interface BenchContext {
  work: string;
  quick: boolean;
  /** 1 GiB, or 256 MiB with --quick. */
  bigSize: number;
  /** Package counts of the scan benchmarks: [1000, 10000], or [1000] with --quick. */
  scanCounts: number[];
  /** Package count of the update benchmark (the largest scan count). */
  repoCount: number;
  pki: Pki;
  big: BigPackages;
  log(msg: string): void;
  /** Self-signed server certificate (pinned by wapt-get, --cacert for curl) and key. */
  tls(): Promise<{ cert: string; key: string }>;
  hasVerb(name: string): Promise<boolean>;
}

export async function makeContext(work: string, quick: boolean): Promise<BenchContext> {
  await mkdir(work, { recursive: true });
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const pki = await ensurePki(work);
  let verbs: Promise<Set<string>> | undefined;
  let tls: Promise<{ cert: string; key: string }> | undefined;
  const counts = quick ? [1000] : [1000, 10000];
  return {
    work,
    quick,
    bigSize: quick ? 256 * MiB : 1024 * MiB,
    scanCounts: counts,
    repoCount: counts[counts.length - 1]!,
    pki,
    big: new BigPackages(work, pki),
    log,
    tls() {
      tls ??= ensureSelfSignedTls(join(work, 'tls')).then((t) => ({ cert: t.certPath, key: t.keyPath }));
      return tls;
    },
    hasVerb(name: string) {
      verbs ??= cli(['--help'], { captureStdout: true }).then((r) => {
        const names = new Set<string>();
        for (const m of r.stdout.matchAll(/^ {2}([a-z][a-z0-9-]*(?:\|[a-z0-9-]+)*)/gm)) for (const n of m[1]!.split('|')) names.add(n);
        return names;
      });
      return verbs.then((s) => s.has(name));
    },
  };
}
