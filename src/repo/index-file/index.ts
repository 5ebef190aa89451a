// The public door of the Packages index reader/writer (W-F1).
export { parsePackagesText, serializeIndexEntry, joinPackagesBlocks, serializePackagesText } from './packages-text.js';
export {
  readPackagesZip,
  readPackagesStatement,
  writePackagesZip,
  writePackagesZipBytes,
  PACKAGES_MEMBER,
  PACKAGES_MAX_BYTES,
  type PackagesIndex,
  type PackagesIndexHead,
  type ReadPackagesOptions,
  type StatementSigning,
  type WritePackagesOptions,
  type WritePackagesBytesOptions,
  type WritePackagesResult,
} from './packages-zip.js';
