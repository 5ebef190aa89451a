// The version the next X2 statement must exceed (issue 8 §2). Whoever may upload
// into the repository directory can also plant a `Packages` or a scan cache, so a
// version is taken only from a statement that verifies with an allowed key: the
// key signing this scan, or one the trust policy allows for index statements.
// Anything else stops the scan with SCAN_PREVIOUS_UNVERIFIED; `--reset-version`
// (docs/index-statement.md) starts again from the clock. The scan cache's
// remembered version is not used: it lives in the same writable directory.
import type { X509Certificate } from 'node:crypto';
import { WaptError } from '../../errors.js';
import { commonName, decodeBase64Loose, fingerprintSha256, parseCertificates, TrustPolicy, verifySha256, type TrustStore } from '../../crypto/index.js';
import { PackageZip } from '../../package/index.js';
import { FRESHNESS_MEMBER, parseFreshness } from '../statement/freshness.js';
import { MAX_VERSION_LEAD_S, parseStatement, STATEMENT_MAX_BYTES, STATEMENT_MEMBER, STATEMENT_SIGNATURE_MEMBER } from '../statement/create.js';

export interface PreviousVersionOptions {
  /** The certificate this scan signs with: a statement it signed is ours. */
  signer: X509Certificate;
  /** The scan's trusted directory, when it has one: any signer the policy allows for index statements. */
  trust?: TrustStore;
  /** Ignore the statement already there (the documented reset). */
  resetVersion: boolean;
  now: Date;
  warn: (m: string) => void;
}

const CERT_MEMBER = /^ssl\/[^/]+\.(crt|pem)$/i;

function unverified(indexPath: string, version: unknown, why: string): WaptError {
  return new WaptError(
    'SCAN_PREVIOUS_UNVERIFIED',
    `${indexPath}: the index statement already there (version ${String(version)}) does not verify with an allowed key: ${why}. ` +
      'It may have been planted; check who wrote it, then scan with --reset-version (or remove Packages) to take the version from the clock',
    { detail: { path: indexPath, version } },
  );
}

async function openExisting(indexPath: string, warn: (m: string) => void): Promise<PackageZip | null> {
  try {
    return await PackageZip.open(indexPath);
  } catch (err) {
    const errno = (err as WaptError).detail?.errno ?? (err as NodeJS.ErrnoException).code;
    // No index yet is normal; a damaged one holds no version anyone could rely on, and is replaced.
    if (errno !== 'ENOENT') warn(`${indexPath}: previous index unreadable (${(err as Error).message}); it is replaced and the version comes from the clock`);
    return null;
  }
}

export async function previousStatementVersion(indexPath: string, opts: PreviousVersionOptions): Promise<number | null> {
  if (opts.resetVersion) {
    opts.warn(`${indexPath}: --reset-version: the version of the statement already there is ignored; the new one comes from the clock`);
    return null;
  }
  const zip = await openExisting(indexPath, opts.warn);
  if (!zip) return null;
  try {
    if (!zip.has(STATEMENT_MEMBER)) return null; // an unsigned index: nothing to exceed but the clock
    const bytes = await zip.readMember(STATEMENT_MEMBER, STATEMENT_MAX_BYTES);
    let fields;
    try {
      fields = parseStatement(bytes);
    } catch (err) {
      throw unverified(indexPath, '?', (err as Error).message);
    }
    const certs: X509Certificate[] = [];
    for (const m of zip.members) {
      if (!m.isDirectory && CERT_MEMBER.test(m.name)) certs.push(...parseCertificates(await zip.readMember(m.name, 1024 * 1024)).filter(Boolean));
    }
    const signer =
      fingerprintSha256(opts.signer) === fields.signer_fingerprint ? opts.signer : certs.find((c) => fingerprintSha256(c) === fields.signer_fingerprint);
    if (!signer) throw unverified(indexPath, fields.version, `its signer ${fields.signer_fingerprint.slice(0, 16)}… is not in the index`);
    const sig = zip.has(STATEMENT_SIGNATURE_MEMBER)
      ? decodeBase64Loose((await zip.readMember(STATEMENT_SIGNATURE_MEMBER, STATEMENT_MAX_BYTES)).toString('ascii'))
      : Buffer.alloc(0);
    if (sig.length === 0 || !verifySha256(signer, bytes, sig)) throw unverified(indexPath, fields.version, 'its signature does not verify');
    if (signer !== opts.signer) {
      if (!opts.trust)
        throw unverified(
          indexPath,
          fields.version,
          `it is signed by ${commonName(signer)}, not by this scan's key, and no trusted directory was given (--trusted)`,
        );
      try {
        TrustPolicy.of(opts.trust).authorize(
          'index-statement',
          signer,
          certs.filter((c) => c !== signer),
          { at: opts.now },
        );
      } catch (err) {
        throw unverified(indexPath, fields.version, (err as Error).message);
      }
    }
    if (fields.version > Math.floor(Date.parse(fields.created) / 1000) + MAX_VERSION_LEAD_S) {
      throw unverified(indexPath, fields.version, `its version is more than a day ahead of its signing time ${fields.created}`);
    }
    return Math.max(fields.version, await freshnessFloor(zip, opts.now));
  } finally {
    zip.close();
  }
}

/**
 * A refresh-index statement raised the version clients saw. Its key is not ours to
 * check here, so its version counts only up to our clock: a planted one moves the
 * next version by at most a second, never ahead of time.
 */
async function freshnessFloor(zip: PackageZip, now: Date): Promise<number> {
  if (!zip.has(FRESHNESS_MEMBER)) return 0;
  try {
    const f = parseFreshness(await zip.readMember(FRESHNESS_MEMBER, STATEMENT_MAX_BYTES));
    return Math.min(f.version, Math.floor(now.getTime() / 1000));
  } catch {
    return 0;
  }
}
