// Issue 9, case 11: an index whose Packages member inflates to 480 MB (deflate ratio under
// the zip cap) used to be read whole, decoded and split, 1.7 GB of RSS, before being refused.
// The statement and the member's digest are now checked first, the member streamed through
// the hash; a refused index never reaches memory. The child's peak RSS is measured by the
// kernel (getrusage ru_maxrss, read by the process itself as it exits).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import yazl from 'yazl';
import { cleanupPki } from '../helpers/pki.js';
import { CLI_BIN } from '../helpers/cli.js';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { scanPackages } from '../../src/repo/scan/scan.js';
import { readZipEntries } from '../helpers/packages.js';

let w: AgentEnv;
let genuine: string;
const MEMBER = 480 * 1024 * 1024;
const BLOCK = Buffer.from(
  randomBytes(12 * 1024)
    .toString('base64')
    .slice(0, 16 * 1024),
);

beforeAll(async () => {
  w = await makeAgentEnv();
  await w.publish({ name: 'tis-inflate' });
  await scanPackages(w.repoDir, { sign: { key: w.pki.codesigner.privateKey, cert: w.pki.codesigner.cert, expiresInMs: 86_400_000 } });
  const r = await w.run(['update'], { json: true });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).repos[0]).toMatchObject({ signed: true }); // from now on a statement is required
  genuine = path.join(w.dir, 'Packages.genuine');
  await copyFile(path.join(w.repoDir, 'Packages'), genuine);
}, 120_000);

afterAll(async () => {
  await w?.stop();
  if (w) cleanupPki(w.pki);
});

/** Writes repo/Packages: a 480 MB Packages member (ratio ~130, under the 200 cap) plus `keep` members of the genuine index. */
async function plantInflatingIndex(keep: (name: string) => boolean): Promise<void> {
  const zip = new yazl.ZipFile();
  const blocks = MEMBER / BLOCK.length;
  zip.addReadStream(
    Readable.from(
      (function* () {
        for (let i = 0; i < blocks; i++) yield BLOCK;
      })(),
    ),
    'Packages',
  );
  for (const e of await readZipEntries(genuine)) if (e.name !== 'Packages' && keep(e.name)) zip.addBuffer(e.data, e.name);
  zip.end();
  await new Promise<void>((resolve, reject) => {
    zip.outputStream
      .pipe(createWriteStream(path.join(w.repoDir, 'Packages')))
      .on('close', resolve)
      .on('error', reject);
  });
}

/** `update --json` with the peak RSS of the wapt-get process, in MiB. */
async function updateWithPeakRss(): Promise<{ code: number | null; doc: { error: { code: string } }; peakMiB: number }> {
  const out = path.join(w.dir, `rss-${Date.now()}`);
  const probe = `data:text/javascript,${encodeURIComponent(
    "import { writeFileSync } from 'node:fs'; process.on('exit', () => writeFileSync(process.env.RSS_OUT, String(process.resourceUsage().maxRSS)));",
  )}`;
  const env: NodeJS.ProcessEnv = { ...process.env, RSS_OUT: out, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--import', probe, CLI_BIN, '--json', '-c', w.configPath, 'update'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const kb = Number(await readFile(out, 'utf8')); // ru_maxrss is in KiB on Linux
  return { code, doc: JSON.parse(stdout), peakMiB: kb / 1024 };
}

test('case 11: a 480 MB Packages member without a statement is refused as unsigned before it is read (bounded RSS)', async () => {
  await plantInflatingIndex((n) => n.startsWith('ssl/'));
  const r = await updateWithPeakRss();
  expect(r.code).toBe(3);
  expect(r.doc.error.code).toBe('INDEX_UNSIGNED');
  expect(r.peakMiB).toBeLessThan(300);
}, 120_000);

test('case 11: a 480 MB Packages member under a genuine statement is refused by its streamed digest (bounded RSS)', async () => {
  await plantInflatingIndex(() => true);
  const r = await updateWithPeakRss();
  expect(r.code).toBe(3);
  expect(r.doc.error.code).toBe('INDEX_DIGEST_MISMATCH');
  expect(r.peakMiB).toBeLessThan(300);
}, 120_000);
