// The public door of src/crypto: other parts import from here only.
export {
  generateRsaKeyPair,
  privateKeyToEncryptedPem,
  loadPrivateKey,
  parsePrivateKey,
  isEncryptedPem,
  isKeyFileEncrypted,
  keyMatchesCertificate,
  RSA_KEY_SIZES,
  type RsaKeySize,
  type RsaKeyPair,
  type LoadKeyOptions,
} from './keys.js';
export {
  resolvePassword,
  resolveNewKeyPassword,
  readPasswordFile,
  KEY_PASSWORD_ENV,
  CA_PASSWORD_ENV,
  type ResolvePasswordOptions,
  type NewKeyPasswordOptions,
} from './password.js';
export {
  createCaCertificate,
  issueCertificate,
  parseCertificates,
  certificateToPem,
  fingerprintSha256,
  commonName,
  issuerCommonName,
  isCodeSigning,
  isCa,
  validityOf,
  OID_CODE_SIGNING,
  type CreateCaOptions,
  type IssueOptions,
} from './certs.js';
export { signSha256, verifySha256, publicKeyOf, mimeBase64, decodeBase64Loose } from './signing.js';
export { TrustStore, type ChainResult, type TrustStoreOptions } from './trust.js';
export { TrustPolicy, loadSignerPins, normalizeFingerprint, type SignerRole, type SignerPins, type RepositorySigners, type PolicyContext } from './policy.js';
export { writeKeyAndCertificate, safeFileStem, type WrittenKeyCert } from './files.js';
export { createKeyCert, loadIssuer, parseKeySize, parseDays, describeKeyCert, keyCertJson, type KeyCertRequest, type KeyCertSummary } from './keycert.js';
export { loadX509 } from './x509-lib.js';
