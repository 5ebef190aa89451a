// Host, group and unit packages as the packager edits them (WAPT's edit-host,
// make-host-template): control only, no code, so a deployer key may sign them (W-D5).
// The current package is unpacked from its verified bytes, its depends/conflicts
// edited, its version bumped, and the rebuild replaces it in the repository directory.
import { mkdtemp, readdir, rename, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WaptError } from '../errors.js';
import type { TrustStore } from '../crypto/index.js';
import { buildPackage, listPayload, type Signer } from './build.js';
import { field } from './control.js';
import { setupKindOf } from './manifest.js';
import {
  applyRequirementEdits,
  assertPackageName,
  bumpPackaging,
  editSourceControl,
  unpackVerified,
  type ListDiff,
  type RequirementEdits,
} from './source-edit.js';
import { makeTemplate } from './templates.js';
import { compareVersions } from './version.js';
import { verifyPackage } from './verify.js';

export type ManagementKind = 'host' | 'group' | 'unit';

export interface EditManagementOptions extends RequirementEdits {
  kind: ManagementKind;
  name: string;
  /** The repository directory holding the package (host repo for hosts). */
  repoDir: string;
  trust: TrustStore;
  /** null: plan only (dry run). */
  signer: Signer | null;
  date: Date;
  reproducible: boolean;
  maintainer: string;
}

export interface EditManagementResult {
  package: string;
  created: boolean;
  from_version: string | null;
  version: string;
  diff: ListDiff[];
  path: string | null;
  replaced: string | null;
}

/** The newest file in `repoDir` that holds package `name` of this kind (host: `<name>.wapt`, W-A3). */
async function currentFile(opts: EditManagementOptions): Promise<string | null> {
  if (opts.kind === 'host') {
    const p = join(opts.repoDir, `${opts.name}.wapt`);
    return (await readdir(opts.repoDir).catch(() => [] as string[])).includes(`${opts.name}.wapt`) ? p : null;
  }
  const names = (await readdir(opts.repoDir).catch(() => [] as string[])).filter((n) => n.startsWith(`${opts.name}_`) && n.endsWith('.wapt'));
  let best: { path: string; version: string } | null = null;
  for (const n of names) {
    const v = await verifyPackage(join(opts.repoDir, n), { trust: opts.trust }).catch(() => null);
    if (!v || v.package !== opts.name) continue;
    if (!best || compareVersions(v.version, best.version) > 0) best = { path: join(opts.repoDir, n), version: v.version };
  }
  return best?.path ?? null;
}

export async function editManagementPackage(opts: EditManagementOptions): Promise<EditManagementResult> {
  assertPackageName(opts.name);
  const existing = await currentFile(opts);
  const work = await mkdtemp(join(tmpdir(), 'wapt-get-edit-'));
  try {
    await chmod(work, 0o700);
    const src = join(work, 'src');
    let fromVersion: string | null = null;
    if (existing) {
      const v = await unpackVerified(existing, src, { trust: opts.trust });
      fromVersion = v.version;
      if (field(v.control, 'section') !== opts.kind) {
        throw new WaptError('CONTROL_INVALID', `${existing} is a ${field(v.control, 'section') || 'base'} package, not a ${opts.kind} package`, {
          detail: { file: existing, section: field(v.control, 'section') },
        });
      }
    } else {
      await makeTemplate(opts.kind, opts.name, src, { maintainer: opts.maintainer });
    }
    // W-D5: management packages carry no code; a deployer signs them, so code here is refused.
    const kind = setupKindOf(await listPayload(src));
    if (kind !== 'none') {
      throw new WaptError(
        'PACKAGE_HAS_CODE',
        `${opts.name}: this ${opts.kind} package carries setup.${kind}; edit-${opts.kind} only edits code-free packages`,
        {
          detail: { package: opts.name, setup: kind },
        },
      );
    }
    let diff: ListDiff[] = [];
    const { after } = await editSourceControl(src, (c) => {
      diff = applyRequirementEdits(c, opts);
      if (fromVersion !== null) c.set('version', bumpPackaging(fromVersion));
      return c;
    });
    const version = field(after, 'version');
    const result: EditManagementResult = { package: opts.name, created: !existing, from_version: fromVersion, version, diff, path: null, replaced: null };
    if (!opts.signer) return result;
    // Built beside its destination, then renamed: a client reading the directory sees the old or the new file.
    const out = await mkdtemp(join(opts.repoDir, '.wapt-get-edit-'));
    try {
      const built = await buildPackage(src, { signer: opts.signer, outDir: out, date: opts.date, reproducible: opts.reproducible });
      const dest = join(opts.repoDir, built.path.slice(out.length + 1));
      await rename(built.path, dest);
      result.path = dest;
    } finally {
      await rm(out, { recursive: true, force: true });
    }
    // A group keeps its old versions in the repository (clients resolve the newest); a host file is replaced in place.
    result.replaced = existing === result.path ? existing : null;
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
