// Full verification of a .wapt file (W-D3..W-D5, W-E3, X3, X4). The agent calls
// this on every cached file before anything of it runs; `wapt-get verify` prints it.
// Cheap checks first (signatures, chain), then one streaming pass over the payload.
import type { X509Certificate } from 'node:crypto';
import { basename } from 'node:path';
import { WaptError, asWaptError } from '../errors.js';
import { commonName, decodeBase64Loose, isCodeSigning, parseCertificates, TrustPolicy, verifySha256, type TrustStore } from '../crypto/index.js';
import { field, parseControl, type ControlFields } from './control.js';
import { findControlSigner } from './control-signature.js';
import { checkControlSafety } from './control-safety.js';
import { CheckLog, type VerifyCheck } from './verify-checks.js';
import {
  assertManifestMatches,
  CERTIFICATE_MEMBER,
  CONTROL_MEMBER,
  MANIFEST_MEMBER,
  parseManifest,
  setupKindOf,
  SIGNATURE_MEMBER,
  type SetupKind,
} from './manifest.js';
import { PackageZip, type ZipLimits } from './zip-reader.js';
import { checkPortableMemberName } from './zip-names.js';

const SMALL_MEMBER_MAX = 16 * 1024 * 1024;

export interface VerifyOptions {
  trust: TrustStore;
  /** Time at which certificates must be valid (default: now). */
  at?: Date;
  limits?: ZipLimits;
  /** An open handle on `path`: its bytes are verified and it stays open, so the caller extracts these very bytes (issue 8 §5). */
  zip?: PackageZip;
  /** Filled with every check and its verdict, in order (`verify --explain`). */
  explain?: VerifyCheck[];
}

export interface VerifiedPackage {
  file: string;
  control: ControlFields;
  package: string;
  version: string;
  signer: string;
  signerFingerprint: string;
  codeSigning: boolean;
  setupKind: SetupKind;
  chain: string[];
  members: number;
}

function requireMember(zip: PackageZip, name: string, source: string): void {
  if (!zip.has(name)) {
    const code = name === CONTROL_MEMBER ? 'CONTROL_PARSE' : name === MANIFEST_MEMBER ? 'MANIFEST_INVALID' : 'SIGNATURE_INVALID';
    throw new WaptError(code, `${source}: ${name} is missing`, { detail: { file: source, member: name } });
  }
}

/** Reads the signed parts of an open package: control, certificates, manifest + its signature. */
export async function readSignedParts(zip: PackageZip, source: string) {
  for (const m of [CONTROL_MEMBER, CERTIFICATE_MEMBER, MANIFEST_MEMBER, SIGNATURE_MEMBER]) requireMember(zip, m, source);
  const controlBytes = await zip.readMember(CONTROL_MEMBER, SMALL_MEMBER_MAX);
  const control = parseControl(controlBytes.toString('utf8'), { source: `${source}:${CONTROL_MEMBER}` });
  const certificates = parseCertificates(await zip.readMember(CERTIFICATE_MEMBER, SMALL_MEMBER_MAX));
  if (certificates.length === 0) {
    throw new WaptError('SIGNATURE_INVALID', `${source}: ${CERTIFICATE_MEMBER} holds no certificate`);
  }
  const manifestBytes = await zip.readMember(MANIFEST_MEMBER, SMALL_MEMBER_MAX);
  const manifest = parseManifest(manifestBytes, source);
  const signature = decodeBase64Loose((await zip.readMember(SIGNATURE_MEMBER, 64 * 1024)).toString('ascii'));
  return { control, controlBytes, certificates, manifestBytes, manifest, signature };
}

export function checkCodeSigningRule(setupKind: SetupKind, signer: X509Certificate, source: string): void {
  // W-D5, asked of the one trust policy: setup code demands the code-signing EKU; deployer certificates sign only code-free packages.
  const refused = TrustPolicy.refusal(setupKind === 'none' ? 'package' : 'package-code', signer, {
    source,
    what: `contains setup code (setup.${setupKind})`,
  });
  if (refused) throw refused;
}

export async function verifyPackage(path: string, opts: VerifyOptions): Promise<VerifiedPackage> {
  const checks = new CheckLog(opts.explain);
  try {
    const v = await verifyPackageLogged(path, opts, checks);
    checks.finish();
    return v;
  } catch (err) {
    checks.fail(asWaptError(err));
    throw err;
  }
}

async function verifyPackageLogged(path: string, opts: VerifyOptions, checks: CheckLog): Promise<VerifiedPackage> {
  const source = basename(path);
  const zip = opts.zip ?? (await PackageZip.open(path, opts.limits));
  try {
    const parts = await readSignedParts(zip, source);
    const signer = parts.certificates[0]!;
    checks.pass('zip structure', `${zip.members.length} members; control, certificate.crt, manifest and signature present`);
    // W-D2/W-D3: the manifest bytes are signed by the first certificate of certificate.crt.
    if (!verifySha256(signer, parts.manifestBytes, parts.signature)) {
      throw new WaptError('SIGNATURE_INVALID', `${source}: ${SIGNATURE_MEMBER} does not verify with ${commonName(signer)}`, {
        detail: { file: source },
      });
    }
    checks.pass('manifest signature', `${SIGNATURE_MEMBER} verifies with ${commonName(signer)}`);
    // W-E3 + X4: control signature, signer fingerprint, chain to the trusted directory (W-D4, X3).
    // (verifyControlSignature's two halves, so that --explain can tell which one failed.)
    const found = findControlSigner(parts.control, parts.certificates);
    if (found.signer !== signer) {
      throw new WaptError('SIGNER_MISMATCH', `${source}: the control and the manifest are signed by different certificates`);
    }
    checks.pass('control signature', `signed attributes verify with ${commonName(signer)}`);
    checks.pass('signer fingerprint', `signer_fingerprint ${found.fingerprint} is the signing certificate`);
    const { chain } = opts.trust.verifyChain(signer, parts.certificates.slice(1), { at: opts.at });
    const verified = { ...found, chain };
    logChainChecks(checks, chain, opts);
    const setupKind = setupKindOf(zip.members.map((m) => m.name));
    checkCodeSigningRule(setupKind, signer, source);
    checks.pass('code-signing rule', setupKind === 'none' ? 'no setup code' : `setup.${setupKind} signed by a code-signing certificate`);
    // W-C1, W-A3: no line break WAPT would split on, no path as a package name.
    checkControlSafety(parts.control, source);
    // W-A1: after the code-signing rule, so a deployer-signed `setup.mjs.` says CODESIGNING_REQUIRED.
    for (const m of zip.members) checkPortableMemberName(m.name);
    checks.pass('name rules', `package name and control values safe; ${zip.members.length} member names portable`);
    // W-D3: one streaming pass over every member.
    const actual = await zip.hashAllMembers();
    assertManifestMatches(parts.manifest, actual, source);
    checks.pass('manifest digests', `${parts.manifest.size} listed members match their SHA-256`);
    return {
      file: path,
      control: parts.control,
      package: field(parts.control, 'package'),
      version: field(parts.control, 'version'),
      signer: commonName(signer),
      signerFingerprint: verified.fingerprint,
      codeSigning: isCodeSigning(signer),
      setupKind,
      chain: verified.chain.map((c) => commonName(c)),
      members: zip.members.filter((m) => !m.isDirectory).length,
    };
  } finally {
    if (!opts.zip) await zip.close();
  }
}

/** The three checks the trust store made in one call (chain, revocation, dates), for `--explain`. */
function logChainChecks(checks: CheckLog, chain: X509Certificate[], opts: VerifyOptions): void {
  checks.pass('chain', chain.map((c) => commonName(c)).join(' → '));
  checks.pass('revocation', `${opts.trust.crlCount} CRL(s) in the trusted directory; none revokes the chain`);
  const until = chain.map((c) => c.validTo).join('; ');
  checks.pass('dates', `every certificate valid at ${(opts.at ?? new Date()).toISOString()} (until ${until})`);
}
