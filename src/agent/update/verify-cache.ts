// Issue 12 §2: the entry verification cache. An update re-does only the RSA checks of
// entries whose bytes are new: a key is sha256 over (the entry's fields, which fix the
// signed bytes and the signature, and the fingerprint of the certificate that verified
// them), so a hit means "this exact signature over these exact bytes by this exact
// certificate verified before". Everything else (filename, W-C1 safety, the signer's chain, X4, the
// statement) still runs on every entry. The file is private state in dbdir
// (verify-cache.<repo>.json, 0600, written by rename, read with O_NOFOLLOW) and is
// bound to the trust store's anchors and the repository's pins: made under others,
// corrupted, or unsafe, it is ignored (one warning) and rebuilt from this update.
import { constants, promises as fs } from 'node:fs';
import { createHash, type X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { atomicWriteFile } from '../../atomic-file.js';
import { PRIVATE_FILE_MODE } from '../../private-state.js';
import { fingerprintSha256, type RepositorySigners, type TrustStore } from '../../crypto/index.js';
import { field, type ControlFields } from '../../package/index.js';

const FORMAT = 'wapt-get verify-cache 1';
/** A cache of a 512 MB index is far below this; a bigger file is not ours. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;

export const verifyCachePath = (dbdir: string, repo: string) => join(dbdir, `verify-cache.${encodeURIComponent(repo)}.json`);

/** What the cached verdicts were made under: the anchors and the repository's pins. */
export function trustKeyOf(trust: TrustStore, signers: RepositorySigners | undefined): string {
  const pins = (p: RepositorySigners['index'] | undefined) =>
    p ? { fps: [...p.fingerprints].sort(), anchors: p.anchors ? p.anchors.certificates.map(fingerprintSha256).sort() : [] } : null;
  const inputs = {
    anchors: trust.certificates.map(fingerprintSha256).sort(),
    crls: trust.crlCount,
    index: pins(signers?.index),
    freshness: pins(signers?.freshness),
  };
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex');
}

interface CacheFile {
  format: string;
  trust: string;
  keys: string[];
}

export class VerifyCache {
  /** RSA checks done this run, and those answered by the cache. */
  verified = 0;
  cached = 0;
  private readonly seen = new Set<string>();
  private lastMiss: { fields: ControlFields; fp: string; key: string } | null = null;

  private constructor(
    private readonly known: ReadonlySet<string>,
    readonly trustKey: string,
  ) {}

  static empty(trustKey: string): VerifyCache {
    return new VerifyCache(new Set(), trustKey);
  }

  /** The cache for `repo`, or an empty one (with a warning) when the file cannot be used. */
  static async load(path: string, trustKey: string, warn: (m: string) => void): Promise<VerifyCache> {
    const raw = await readPrivate(path, warn);
    if (raw === null) return VerifyCache.empty(trustKey);
    let parsed: CacheFile;
    try {
      parsed = JSON.parse(raw) as CacheFile;
      if (
        parsed.format !== FORMAT ||
        typeof parsed.trust !== 'string' ||
        !Array.isArray(parsed.keys) ||
        !parsed.keys.every((k) => typeof k === 'string' && HEX64.test(k))
      ) {
        throw new Error('unexpected content');
      }
    } catch (err) {
      warn(`${path} is corrupted (${(err as Error).message}); ignored, every entry is verified again and the cache rebuilt`);
      return VerifyCache.empty(trustKey);
    }
    // another trust store or other pins: its verdicts are not ours to reuse
    if (parsed.trust !== trustKey) return VerifyCache.empty(trustKey);
    return new VerifyCache(new Set(parsed.keys), trustKey);
  }

  /**
   * W-E3: which certificate signed `fields`, answered from the cache when this exact
   * signature over these exact bytes verified with that certificate before; null
   * means "not known": the caller runs the full check and calls remember().
   */
  lookup(fields: ControlFields, certificates: X509Certificate[]): X509Certificate | null {
    if (this.known.size === 0 || !field(fields, 'signature')) return null; // cold: hash once, in remember()
    const wanted = field(fields, 'signer_fingerprint').toLowerCase();
    for (const cert of certificates) {
      const fp = fingerprintSha256(cert);
      if (wanted && fp !== wanted) continue;
      const key = entryKey(fields, fp);
      this.lastMiss = { fields, fp, key }; // a miss hashes once: remember() reuses it
      if (this.known.has(key)) {
        this.cached++;
        this.seen.add(key);
        return cert;
      }
    }
    return null;
  }

  /** After a full check that verified: the verdict is kept for the next update. */
  remember(fields: ControlFields, fingerprint: string): void {
    this.verified++;
    const m = this.lastMiss;
    this.seen.add(m && m.fields === fields && m.fp === fingerprint ? m.key : entryKey(fields, fingerprint));
  }

  /** Keeps exactly the verdicts of this index (entries gone from it are dropped). */
  async save(path: string): Promise<void> {
    const unchanged = this.verified === 0 && this.seen.size === this.known.size;
    if (unchanged) return;
    const body: CacheFile = { format: FORMAT, trust: this.trustKey, keys: [...this.seen].sort() };
    await atomicWriteFile(path, JSON.stringify(body), { mode: PRIVATE_FILE_MODE });
  }
}

/**
 * sha256 over every field of the entry (names and values, JSON-encoded so no two maps
 * share an input), then the fingerprint. The signed bytes (the signed_attributes JSON)
 * and the signature are functions of these fields, so a hit implies both are identical;
 * hashing the fields costs a fraction of re-serialising the signed attributes.
 */
function entryKey(fields: ControlFields, fingerprint: string): string {
  return createHash('sha256')
    .update(JSON.stringify([...fields]))
    .update('\n')
    .update(fingerprint)
    .digest('hex');
}

/** The file's text, or null (missing, a symlink, not ours, too big: with a warning when not just missing). */
async function readPrivate(path: string, warn: (m: string) => void): Promise<string | null> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    warn(`${path} cannot be read safely (${code ?? (err as Error).message}); ignored, the cache is rebuilt`);
    return null;
  }
  try {
    const st = await fh.stat();
    const ours = st.uid === 0 || st.uid === process.getuid?.();
    if (!st.isFile() || !ours || (st.mode & 0o077) !== 0 || st.size > MAX_CACHE_BYTES) {
      warn(`${path} is not a private file of ours (mode ${(st.mode & 0o777).toString(8)}, uid ${st.uid}); ignored, the cache is rebuilt`);
      return null;
    }
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}
