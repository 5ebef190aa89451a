// Many small packages for the scan / update benchmarks: N real signed .wapt files
// (our buildPackage, one key) and N tiny .deb files for apt's tools. Both sets are
// cached under the work dir by count: making 10,000 signed packages takes a while.
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { buildPackage, controlFromObject, serializeControl } from '../package/index.js';
import type { Pki } from './fixtures.js';

export const pkgName = (i: number) => `bench-pkg-${String(i).padStart(5, '0')}`;
export const pkgVersion = (i: number) => `1.${i % 7}.${i % 13}-1`;

async function inParallel(n: number, limit: number, fn: (i: number, slot: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async (_, slot) => {
      while (next < n) await fn(next++, slot);
    }),
  );
}

/** `<work>/wapt-<count>/`: count signed packages, each a control and one small file. */
export async function ensureWaptSet(work: string, pki: Pki, count: number, log: (m: string) => void): Promise<string> {
  const dir = join(work, `wapt-${count}`);
  const marker = `${dir}.complete`;
  if (existsSync(marker)) return dir;
  log(`making ${count} signed packages in ${dir} (cached for later runs)…`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const slots = 6;
  const srcRoot = join(work, `wapt-${count}-src`);
  for (let s = 0; s < slots; s++) await mkdir(join(srcRoot, String(s), 'WAPT'), { recursive: true });
  const t0 = Date.now();
  await inParallel(count, slots, async (i, slot) => {
    const src = join(srcRoot, String(slot));
    const depends = i % 10 === 0 && i > 0 ? pkgName(i - 1) : '';
    const control = controlFromObject({
      package: pkgName(i),
      version: pkgVersion(i),
      architecture: 'all',
      section: 'base',
      maturity: 'PROD',
      description: `benchmark package number ${i}`,
      depends,
    });
    await writeFile(join(src, 'WAPT', 'control'), serializeControl(control));
    await writeFile(join(src, 'readme.txt'), `package ${i}\n`.repeat(8));
    await buildPackage(src, { signer: pki.signer, outDir: dir, date: new Date(), reproducible: false });
  });
  await rm(srcRoot, { recursive: true, force: true });
  await writeFile(marker, '');
  log(`  made ${count} packages in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return dir;
}

function tarGz(entries: { name: string; data?: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<Buffer>((res, rej) => {
    pack.on('end', () => res(gzipSync(Buffer.concat(chunks))));
    pack.on('error', rej);
  });
  for (const e of entries) {
    if (e.data) pack.entry({ name: e.name, size: e.data.length, mode: 0o644, mtime: new Date(0) }, e.data);
    else pack.entry({ name: e.name, type: 'directory', mode: 0o755, mtime: new Date(0) });
  }
  pack.finalize();
  return done;
}

/** One ar member: 60-byte header (name, mtime, uid, gid, octal mode, size, magic), data, pad to even. */
function arMember(name: string, data: Buffer): Buffer {
  const header = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(data.length).padEnd(10)}\`\n`;
  const parts = [Buffer.from(header, 'ascii'), data];
  if (data.length % 2 === 1) parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}

/** A minimal valid .deb, written directly (dpkg-deb --build costs ~10 ms a file). */
export async function makeDeb(i: number): Promise<Buffer> {
  const control = [
    `Package: ${pkgName(i)}`,
    `Version: ${pkgVersion(i)}`,
    'Architecture: all',
    'Maintainer: Bench <bench@example.org>',
    'Installed-Size: 1',
    'Section: misc',
    'Priority: optional',
    ...(i % 10 === 0 && i > 0 ? [`Depends: ${pkgName(i - 1)}`] : []),
    `Description: benchmark package number ${i}`,
    '',
  ].join('\n');
  const controlTar = await tarGz([{ name: './' }, { name: './control', data: Buffer.from(control) }]);
  const dataTar = await tarGz([{ name: './' }, { name: './readme.txt', data: Buffer.from(`package ${i}\n`.repeat(8)) }]);
  return Buffer.concat([
    Buffer.from('!<arch>\n'),
    arMember('debian-binary', Buffer.from('2.0\n')),
    arMember('control.tar.gz', controlTar),
    arMember('data.tar.gz', dataTar),
  ]);
}

/** `<work>/deb-<count>/`: count tiny .deb files with the same names and versions as the .wapt set. */
export async function ensureDebSet(work: string, count: number, log: (m: string) => void): Promise<string> {
  const dir = join(work, `deb-${count}`);
  const marker = `${dir}.complete`;
  if (existsSync(marker)) return dir;
  log(`making ${count} .deb files in ${dir} (cached for later runs)…`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await inParallel(count, 8, async (i) => {
    await writeFile(join(dir, `${pkgName(i)}_${pkgVersion(i)}_all.deb`), await makeDeb(i));
  });
  await writeFile(marker, '');
  return dir;
}
