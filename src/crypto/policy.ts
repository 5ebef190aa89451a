// The trust policy: which certificate may sign which object (issue 8, STYLE 16
// "roles, not just chains"). Every entry point asks this one object: a chain to the
// trusted directory says who a signer is; the role says what it may sign.
//   package-code     a package with setup code: code-signing EKU (W-D5)
//   package          a code-free package: code-signing or deployer (W-D5)
//   host-package     a W-F4 host package (code-free): code-signing or deployer
//   index-statement  the X2 statement: a code-signing certificate, or one of the
//                    repository's pinned `index_signer`s (apt Signed-By)
//   index-freshness  the X2 freshness statement: only a pinned `index_freshness_signer`
// A certificate pinned as freshness signer never signs a statement of that repository.
import { readFile } from 'node:fs/promises';
import type { X509Certificate } from 'node:crypto';
import { WaptError } from '../errors.js';
import { commonName, fingerprintSha256, isCodeSigning, parseCertificates } from './certs.js';
import { TrustStore, type ChainResult } from './trust.js';

export type SignerRole = 'package-code' | 'package' | 'host-package' | 'index-statement' | 'index-freshness';

/** Certificates a repository pins for one role (`index_signer = …`, several for rotation). */
export interface SignerPins {
  /** The ini key the pins came from, for messages. */
  key: string;
  /** Lowercase hex SHA-256 of each pinned certificate's DER. */
  fingerprints: ReadonlySet<string>;
  /** Certificates pinned by file: trusted for this role without chaining to the trusted directory. */
  anchors: TrustStore | null;
}

/** What one repository says about its index signers; null: the default rule (index) or nobody (freshness). */
export interface RepositorySigners {
  index: SignerPins | null;
  freshness: SignerPins | null;
}

export interface PolicyContext {
  /** Time at which the chain must be valid (default: now). */
  at?: Date;
  /** The repository's pins (index roles only). */
  signers?: RepositorySigners;
  /** File or object name that starts the message. */
  source?: string;
  /** What the object holds, for the package-code message ("contains setup code (setup.mjs)"). */
  what?: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** `AB:CD:…` or `abcd…` → 64 lowercase hex digits, else null. */
export function normalizeFingerprint(text: string): string | null {
  const hex = text.replace(/:/g, '').toLowerCase();
  return HEX64.test(hex) ? hex : null;
}

/**
 * Loads pins written as fingerprints or certificate file paths (config.ts settles
 * them: fingerprints normalized, paths absolute). Empty list → null (no pin).
 */
export async function loadSignerPins(key: string, entries: readonly string[]): Promise<SignerPins | null> {
  if (entries.length === 0) return null;
  const fingerprints = new Set<string>();
  const anchors: X509Certificate[] = [];
  for (const entry of entries) {
    const fp = normalizeFingerprint(entry);
    if (fp) {
      fingerprints.add(fp);
      continue;
    }
    let certs: X509Certificate[];
    try {
      certs = parseCertificates(await readFile(entry));
    } catch (err) {
      throw new WaptError('CONFIG_INVALID', `${key}: cannot read the pinned certificate ${entry}: ${(err as Error).message}`, {
        cause: err,
        detail: { key, value: entry },
      });
    }
    if (certs.length === 0) throw new WaptError('CONFIG_INVALID', `${key}: ${entry} holds no certificate`, { detail: { key, value: entry } });
    for (const c of certs) {
      fingerprints.add(fingerprintSha256(c));
      anchors.push(c);
    }
  }
  return { key, fingerprints, anchors: anchors.length > 0 ? TrustStore.fromCertificates(anchors) : null };
}

function notAllowed(message: string, signer: X509Certificate, role: SignerRole): WaptError {
  return new WaptError('SIGNER_NOT_ALLOWED', message, {
    detail: { role, signer: commonName(signer), fingerprint: fingerprintSha256(signer) },
  });
}

const policies = new WeakMap<TrustStore, TrustPolicy>();

export class TrustPolicy {
  private constructor(readonly trust: TrustStore) {}

  /** The policy over one trusted directory (one object per store). */
  static of(trust: TrustStore): TrustPolicy {
    let p = policies.get(trust);
    if (!p) {
      p = new TrustPolicy(trust);
      policies.set(trust, p);
    }
    return p;
  }

  /**
   * The role half of the question, without a chain: why `signer` may not sign an
   * object of `role`, or null. Used before signing (build, sign, scanpackages --sign,
   * refresh-index) as well as by authorize().
   */
  static refusal(role: SignerRole, signer: X509Certificate, ctx: PolicyContext = {}): WaptError | null {
    const src = ctx.source ? `${ctx.source}: ` : '';
    const fp = fingerprintSha256(signer);
    const cn = commonName(signer);
    switch (role) {
      case 'package':
      case 'host-package':
        return null; // W-D5: code-free packages may be signed by a deployer or a code-signer
      case 'package-code':
        // W-D5: setup code demands the code-signing EKU.
        if (isCodeSigning(signer)) return null;
        return new WaptError('CODESIGNING_REQUIRED', `${src}${ctx.what ?? 'contains setup code'} but ${cn} is not a code-signing certificate`, {
          detail: { ...(ctx.source ? { file: ctx.source } : {}), signer: cn },
        });
      case 'index-statement': {
        const pins = ctx.signers;
        if (pins?.freshness?.fingerprints.has(fp)) {
          return notAllowed(`${src}${cn} is pinned as ${pins.freshness.key}: it may renew the index's freshness only, never sign its content`, signer, role);
        }
        if (pins?.index) {
          if (pins.index.fingerprints.has(fp)) return null;
          return notAllowed(
            `${src}the index statement is signed by ${cn} (${fp.slice(0, 16)}…), which is not pinned as ${pins.index.key} for this repository`,
            signer,
            role,
          );
        }
        if (isCodeSigning(signer)) return null;
        return notAllowed(
          `${src}the index statement is signed by ${cn}, which is not a code-signing certificate (a deployer key may not sign an index)`,
          signer,
          role,
        );
      }
      case 'index-freshness': {
        const pins = ctx.signers?.freshness;
        if (pins?.fingerprints.has(fp)) return null;
        return notAllowed(
          pins
            ? `${src}the freshness statement is signed by ${cn} (${fp.slice(0, 16)}…), which is not pinned as ${pins.key} for this repository`
            : `${src}the index carries a freshness statement signed by ${cn}, but this repository pins no index_freshness_signer`,
          signer,
          role,
        );
      }
    }
  }

  /**
   * The whole question: may this chain sign an object of `role`? First who the signer
   * is (X4, W-D4, X3: a chain to a certificate pinned by file for this role, else to the
   * trusted directory; SIGNER_UNTRUSTED, CERT_*), then what it may sign (refusal()).
   * Throws the refusal; returns the chain.
   */
  authorize(role: SignerRole, signer: X509Certificate, intermediates: X509Certificate[], ctx: PolicyContext = {}): ChainResult {
    const pins = role === 'index-statement' ? ctx.signers?.index : role === 'index-freshness' ? ctx.signers?.freshness : null;
    // Where the repository's pins decide, say so before any chain: a certificate of another role is refused as such.
    const pinned = role === 'index-freshness' || (role === 'index-statement' && (pins || ctx.signers?.freshness?.fingerprints.has(fingerprintSha256(signer))));
    if (pinned) {
      const refused = TrustPolicy.refusal(role, signer, ctx);
      if (refused) throw refused;
    }
    const chain = pins?.anchors?.hasFingerprint(fingerprintSha256(signer))
      ? pins.anchors.verifyChain(signer, [], { at: ctx.at })
      : this.trust.verifyChain(signer, intermediates, { at: ctx.at });
    const refused = TrustPolicy.refusal(role, signer, ctx);
    if (refused) throw refused;
    return chain;
  }
}
