// Attacker-made but validly signed packages and indexes for the trust-seam tests: the
// control is edited, then re-signed (control signature and manifest) with a trusted key,
// so the only thing wrong with the result is the seam under test.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { parseControl, serializeControl, type Signer } from '../../src/package/index.js';
import { serializeIndexEntry } from '../../src/repo/index-file/packages-text.js';
import { forgePackage, readMember, readZipEntries, writeZipEntries, type ZipEdits } from '../helpers/packages.js';

/** `base` with control fields set to `fields`, re-signed by `signer` (control + manifest). */
export async function forgeSigned(base: string, dest: string, fields: Record<string, string>, signer: Signer, extra: ZipEdits = {}): Promise<string> {
  const edit = (old: Buffer) => {
    const c = parseControl(old.toString('utf8'));
    for (const [k, v] of Object.entries(fields)) c.set(k, v);
    return Buffer.from(serializeControl(c), 'utf8');
  };
  return forgePackage(base, dest, { ...extra, replace: { 'WAPT/control': edit, ...extra.replace } }, { signer, resignControl: true });
}

/**
 * Appends the entry of `wapt` (its signed control + W-F1 index fields, `filename`
 * overridable) to `<repoDir>/Packages`, as a publisher who bypasses scanpackages would.
 */
export async function appendIndexEntry(repoDir: string, wapt: string, filename: string): Promise<void> {
  const fields = parseControl((await readMember(wapt, 'WAPT/control')).toString('utf8'));
  const bytes = readFileSync(wapt);
  fields.set('filename', filename);
  fields.set('size', String(statSync(wapt).size));
  fields.set('md5sum', createHash('md5').update(bytes).digest('hex'));
  fields.set('sha256', createHash('sha256').update(bytes).digest('hex'));
  const indexPath = join(repoDir, 'Packages');
  const entries = await readZipEntries(indexPath);
  const text = entries.find((e) => e.name === 'Packages')!;
  const old = text.data.toString('utf8');
  text.data = Buffer.from(`${old === '' ? '' : old.replace(/\n$/, '') + '\n\n'}${serializeIndexEntry(fields)}\n`, 'utf8');
  await writeZipEntries(indexPath, entries);
}
