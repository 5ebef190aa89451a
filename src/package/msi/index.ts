// Installer files (.msi, setup .exe) read for make-template; entered through src/package/index.ts.
export { decodeStreamName, encodeStreamName, parseStringPool, readMsi, readStringTable, type MsiProduct, type MsiStringPool } from './reader.js';
export { detectExeInstaller, readExeInstaller, SILENT_ARGS, type ExeInstaller, type ExeInstallerKind } from './exe.js';
export { checkInstallerPackage, constString, type InstallerCheck } from './check.js';
