// W-F4 host packages: which names one may carry, and when one may replace another
// (issue 8 §3). One rule, asked by the agent (update) and by serve (host-package
// uploads from edit-host --server), so both refuse the same packages.
import os from 'node:os';
import { WaptError } from '../errors.js';
import { TrustPolicy, type TrustStore } from '../crypto/index.js';
import { field } from './control.js';
import { compareVersions } from './version.js';
import { readSignedParts, verifyPackage, type VerifiedPackage } from './verify.js';
import { PackageZip } from './zip-reader.js';

/**
 * A host package file as the agent and serve both check it: verifyPackage through one
 * handle, then TrustPolicy for role 'host-package' on the same signer certificate.
 */
export async function verifyHostPackageFile(file: string, opts: { trust: TrustStore; at: Date; source: string }): Promise<VerifiedPackage> {
  const zip = await PackageZip.open(file);
  try {
    const verified = await verifyPackage(file, { trust: opts.trust, at: opts.at, zip });
    const signer = (await readSignedParts(zip, opts.source)).certificates[0]!;
    const refused = TrustPolicy.refusal('host-package', signer, { source: opts.source, at: opts.at });
    if (refused) throw refused;
    return verified;
  } finally {
    zip.close();
  }
}

/**
 * W-F4: the names a host package may carry here: the host UUID, or (as WAPT allows)
 * the host's FQDN; compared case-insensitively, as WAPT does. A bare hostname (no dot)
 * is not an FQDN and could be any package's name, so it never qualifies.
 */
export function isHostPackageName(name: string, hostUuid: string | null, fqdn = os.hostname()): boolean {
  const n = name.toLowerCase();
  if (hostUuid && n === hostUuid.toLowerCase()) return true;
  return fqdn.includes('.') && n === fqdn.toLowerCase();
}

/** The last host package accepted (the agent keeps it in params, serve checks the file it holds). */
export interface AcceptedHostPackage {
  package: string;
  version: string;
  signature_date: string;
  sha256: string;
}

/**
 * Issue 8 §3, pure: throws unless `v` may replace what was accepted last. The name is
 * the host's (HOST_PACKAGE_MISMATCH); (version, signature_date) does not go back, and an
 * equal pair must be the very same file (HOST_PACKAGE_ROLLBACK: equal is not newer).
 */
export function checkHostPackage(
  v: VerifiedPackage,
  sha256: string,
  hostUuid: string,
  last: AcceptedHostPackage | null,
  offeredBy = 'the host repository served',
): AcceptedHostPackage {
  if (!isHostPackageName(v.package, hostUuid)) {
    throw new WaptError(
      'HOST_PACKAGE_MISMATCH',
      `${offeredBy} ${v.package} ${v.version} as this host's package, but this host is ${hostUuid}: a host package may only be named after its host`,
      { detail: { package: v.package, version: v.version, host_uuid: hostUuid } },
    );
  }
  const now: AcceptedHostPackage = { package: v.package, version: v.version, signature_date: field(v.control, 'signature_date'), sha256 };
  if (last) {
    const byVersion = compareVersions(now.version, last.version);
    const older = byVersion < 0 || (byVersion === 0 && now.signature_date < last.signature_date);
    const sameButDifferent = byVersion === 0 && now.signature_date === last.signature_date && now.sha256 !== last.sha256;
    if (older || sameButDifferent) {
      const why = older ? 'older than' : 'a different file with the same version and signing date as';
      throw new WaptError(
        'HOST_PACKAGE_ROLLBACK',
        `${offeredBy} ${now.package} ${now.version} (signed ${now.signature_date || 'at no date'}), ${why} the host package already accepted (${last.version}, signed ${last.signature_date})`,
        { detail: { offered: now, accepted: last } },
      );
    }
  }
  return now;
}
