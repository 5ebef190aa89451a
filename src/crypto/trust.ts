// The trusted directory (WAPT's ssl/): anchors and CRLs, and chain building over
// node:crypto so that verifying thousands of index entries stays fast (results
// are cached per signer). W-D4, X3, X4.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { X509Certificate } from 'node:crypto';
import { WaptError } from '../errors.js';
import { commonName, fingerprintSha256, isCa, isCodeSigning, issuerCommonName, OID_CODE_SIGNING, parseCertificates, validityOf } from './certs.js';
import { pathLenConstraint } from './der-constraints.js';
import { crlSignedBy, hasPemCrl, nameKey, normalizeSerial, parseCrls, type ParsedCrl } from './crl.js';
import { publicKeyOf } from './signing.js';

export interface ChainResult {
  /** Signer first, then intermediates, ending with the anchor (just [signer] when the signer is trusted itself). */
  chain: X509Certificate[];
  anchor: X509Certificate;
}

export interface TrustStoreOptions {
  onWarning?: (msg: string) => void;
}

const MAX_DEPTH = 8;
const OID_ANY_EKU = '2.5.29.37.0';
const CACHE_LIMIT = 10_000;

type Cached = { chain: X509Certificate[] } | { error: WaptError };

export class TrustStore {
  private readonly anchors: X509Certificate[];
  private readonly anchorFps: Set<string>;
  private readonly crls: ParsedCrl[];
  private readonly onWarning: (msg: string) => void;
  private readonly cache = new Map<string, Cached>();
  private readonly crlVerdicts = new Map<string, boolean>();
  private readonly warned = new Set<string>();
  private readonly nameKeys = new WeakMap<X509Certificate, string>();

  private constructor(certs: X509Certificate[], crls: ParsedCrl[], opts: TrustStoreOptions) {
    const seen = new Set<string>();
    this.anchors = certs.filter((c) => !seen.has(fingerprintSha256(c)) && seen.add(fingerprintSha256(c)));
    this.anchorFps = seen;
    this.crls = crls;
    this.onWarning = opts.onWarning ?? (() => {});
  }

  /** X3/W-D4: every *.crt / *.pem certificate and every *.crl / *.pem CRL of `dir` (not recursive). */
  static async load(dir: string, opts: TrustStoreOptions = {}): Promise<TrustStore> {
    let names: string[];
    try {
      names = (await readdir(dir, { withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) => d.name)
        .sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new TrustStore([], [], opts);
      throw new WaptError('IO_ERROR', `cannot read trusted directory ${dir}: ${(err as Error).message}`, { cause: err, detail: { path: dir } });
    }
    const certs: X509Certificate[] = [];
    const crls: ParsedCrl[] = [];
    for (const name of names) {
      const ext = name.slice(name.lastIndexOf('.')).toLowerCase();
      if (!['.crt', '.pem', '.crl'].includes(ext)) continue;
      const path = join(dir, name);
      const data = await readFile(path);
      const text = data.toString('latin1');
      try {
        if (ext === '.crl' || hasPemCrl(text)) crls.push(...parseCrls(data, path));
        if (ext === '.crt' || (ext === '.pem' && text.includes('-----BEGIN CERTIFICATE-----'))) certs.push(...parseCertificates(data));
      } catch (err) {
        // One bad file must not disable the whole trusted directory.
        opts.onWarning?.(`ignoring ${path}: ${(err as Error).message}`);
      }
    }
    return new TrustStore(certs, crls, opts);
  }

  /** A store from certificates in memory; CRLs as PEM or DER bytes (CERT_INVALID on garbage). */
  static fromCertificates(certs: X509Certificate[], crls: Buffer[] = [], opts: TrustStoreOptions = {}): TrustStore {
    return new TrustStore(
      certs,
      crls.flatMap((c, i) => parseCrls(c, `crl #${i + 1}`)),
      opts,
    );
  }

  get certificates(): readonly X509Certificate[] {
    return this.anchors;
  }

  get crlCount(): number {
    return this.crls.length;
  }

  hasFingerprint(fp: string): boolean {
    return this.anchorFps.has(fp.toLowerCase());
  }

  /**
   * W-D4/X4: a path from `signer` through CA intermediates to a trusted CA (or the
   * signer itself when trusted), every CA allowed to issue what lies below it
   * (pathLenConstraint, extendedKeyUsage), every certificate within its dates at `at`,
   * none revoked by a CRL of its issuer (X3).
   */
  verifyChain(signer: X509Certificate, intermediates: X509Certificate[] = [], opts: { at?: Date } = {}): ChainResult {
    const at = opts.at ?? new Date();
    const key = `${fingerprintSha256(signer)}|${intermediates.map(fingerprintSha256).join(',')}|${Math.floor(at.getTime() / 86_400_000)}`;
    let cached = this.cache.get(key);
    if (!cached) {
      try {
        const chain = this.buildPath(signer, intermediates, at);
        this.checkRevocation(chain, at);
        cached = { chain };
      } catch (err) {
        if (!(err instanceof WaptError)) throw err;
        cached = { error: err };
      }
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, cached);
    }
    if ('error' in cached) throw cached.error;
    // Dates are checked on every call, at the exact instant asked for.
    checkDates(cached.chain, at);
    return { chain: cached.chain, anchor: cached.chain[cached.chain.length - 1]! };
  }

  private buildPath(signer: X509Certificate, intermediates: X509Certificate[], at: Date): X509Certificate[] {
    if (this.anchorFps.has(fingerprintSha256(signer))) return [signer]; // X4: the signer itself is trusted
    const pool = intermediates.filter((c) => isCa(c) && !this.anchorFps.has(fingerprintSha256(c)));
    const anchors = this.anchors.filter(isCa);
    let refused: string | undefined; // why the best candidate issuer could not be used
    const walk = (path: X509Certificate[]): X509Certificate[] | undefined => {
      const cur = path[path.length - 1]!;
      const inPath = new Set(path.map(fingerprintSha256));
      const issuers = (certs: X509Certificate[]) =>
        certs
          .filter((c) => !inPath.has(fingerprintSha256(c)) && cur.checkIssued(c) && cur.verify(publicKeyOf(c)))
          .filter((c) => {
            const why = issuerConstraintViolation(c, path);
            refused ??= why;
            return why === undefined;
          })
          .sort((a, b) => Number(validAt(b, at)) - Number(validAt(a, at)));
      const anchor = issuers(anchors)[0];
      if (anchor) return [...path, anchor];
      if (path.length >= MAX_DEPTH) return undefined;
      for (const next of issuers(pool)) {
        const found = walk([...path, next]);
        if (found) return found;
      }
      return undefined;
    };
    const chain = walk([signer]);
    if (!chain && refused !== undefined) {
      throw new WaptError('CERT_CONSTRAINT', `certificate "${commonName(signer)}" does not chain to a trusted CA: ${refused}`, {
        detail: { signer: commonName(signer), fingerprint: fingerprintSha256(signer), reason: refused },
      });
    }
    if (!chain) {
      throw new WaptError(
        'SIGNER_UNTRUSTED',
        `certificate "${commonName(signer)}" (issued by "${issuerCommonName(signer)}") does not chain to a trusted CA certificate`,
        { detail: { signer: commonName(signer), issuer: signer.issuer, fingerprint: fingerprintSha256(signer) } },
      );
    }
    return chain;
  }

  /** X3: each non-anchor certificate against the CRLs its issuer signed. */
  private checkRevocation(chain: X509Certificate[], at: Date): void {
    for (let i = 0; i + 1 < chain.length; i++) {
      const cert = chain[i]!;
      const issuer = chain[i + 1]!;
      const serial = normalizeSerial(cert.serialNumber);
      for (const crl of this.crlsOf(issuer)) {
        if (crl.nextUpdate && crl.nextUpdate < at) {
          this.warnOnce(`expired:${crl.source}`, `CRL ${crl.source} expired on ${crl.nextUpdate.toISOString()}; still honoured`);
        }
        const when = crl.revoked.get(serial);
        if (when) {
          const role = i === 0 ? 'signer' : 'intermediate';
          throw new WaptError(
            'CERT_REVOKED',
            `${role} certificate "${commonName(cert)}" (serial ${serial}) was revoked on ${when.toISOString()} by CRL ${crl.source}`,
            {
              detail: { role, commonName: commonName(cert), serial, fingerprint: fingerprintSha256(cert), crl: crl.source },
            },
          );
        }
      }
    }
  }

  /** CRLs naming `issuer` whose signature verifies with its key; others are ignored with a warning. */
  private crlsOf(issuer: X509Certificate): ParsedCrl[] {
    if (this.crls.length === 0) return []; // nameKey would load @peculiar/x509 for nothing
    const name = this.nameKeyOf(issuer);
    const fp = fingerprintSha256(issuer);
    return this.crls.filter((crl) => {
      if (crl.issuerKey !== name) return false;
      const verdictKey = `${crl.source}|${fp}`;
      let ok = this.crlVerdicts.get(verdictKey);
      if (ok === undefined) {
        ok = crlSignedBy(crl, publicKeyOf(issuer));
        this.crlVerdicts.set(verdictKey, ok);
      }
      if (!ok) this.warnOnce(`badsig:${verdictKey}`, `ignoring CRL ${crl.source}: its signature does not verify with the key of "${commonName(issuer)}"`);
      return ok;
    });
  }

  private nameKeyOf(cert: X509Certificate): string {
    let k = this.nameKeys.get(cert);
    if (k === undefined) {
      k = nameKey(cert.raw);
      this.nameKeys.set(cert, k);
    }
    return k;
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.onWarning(msg);
  }
}

/**
 * Why `ca` may not issue the top of `path` (signer first), as OpenSSL's chain checks:
 * its pathLenConstraint bounds the non-self-issued CAs below it (RFC 5280 4.2.1.9), and
 * a CA whose extendedKeyUsage lists neither codeSigning nor anyExtendedKeyUsage cannot
 * vouch for a code signer (W-D5: a serverAuth intermediate issues no code-signing right).
 * An absent EKU allows every purpose.
 */
function issuerConstraintViolation(ca: X509Certificate, path: X509Certificate[]): string | undefined {
  const limit = pathLenConstraint(ca);
  if (limit !== null) {
    const below = path.slice(1).filter((c) => c.subject !== c.issuer).length;
    if (below > limit) return `"${commonName(ca)}" allows ${limit} intermediate CA(s) below it (pathLenConstraint), the chain has ${below}`;
  }
  const signer = path[0]!;
  const eku = ca.keyUsage;
  if (eku && isCodeSigning(signer) && !eku.includes(OID_CODE_SIGNING) && !eku.includes(OID_ANY_EKU)) {
    return `"${commonName(ca)}" is limited to extendedKeyUsage ${eku.join(', ')} and cannot issue a code-signing certificate`;
  }
  return undefined;
}

function validAt(cert: X509Certificate, at: Date): boolean {
  const { notBefore, notAfter } = validityOf(cert);
  return notBefore <= at && at <= notAfter;
}

/** X4: every certificate of the chain, anchor included, must be valid at `at`. */
function checkDates(chain: X509Certificate[], at: Date): void {
  chain.forEach((cert, i) => {
    const { notBefore, notAfter } = validityOf(cert);
    // Runs for every index entry: the message and detail are built only on failure.
    if (notBefore <= at && at <= notAfter) return;
    const role = i === 0 ? 'signer' : i === chain.length - 1 ? 'trusted CA' : 'intermediate';
    const span = `valid from ${notBefore.toISOString()} to ${notAfter.toISOString()}`;
    const detail = {
      role,
      commonName: commonName(cert),
      fingerprint: fingerprintSha256(cert),
      notBefore: notBefore.toISOString(),
      notAfter: notAfter.toISOString(),
    };
    if (at > notAfter) throw new WaptError('CERT_EXPIRED', `${role} certificate "${commonName(cert)}" has expired (${span})`, { detail });
    if (at < notBefore) throw new WaptError('CERT_NOT_YET_VALID', `${role} certificate "${commonName(cert)}" is not yet valid (${span})`, { detail });
  });
}
