// The public door of src/package: other rooms import from here only.
export * from './control-fields.js';
export { parseControl, serializeControl, validateControl, field, withDefaults, controlFromObject, type ControlFields } from './control.js';
export { parseVersion, compareVersions, compareSoft, type WaptVersion } from './version.js';
export { parseRequirement, parseRequirementList, satisfies, formatRequirement, PACKAGE_NAME_RE, type Requirement, type RequirementOp } from './requirement.js';
export { packageFilename } from './filename.js';
export { pyJsonStringify, signedAttributesJson, manifestJson } from './pyjson.js';
export { signControl, verifyControlSignature, findControlSigner, signedAttributeNames, SIGNED_ATTRIBUTES, type VerifiedControl } from './control-signature.js';
export * from './manifest.js';
export { checkMemberName, checkPortableMemberName, foldMemberName } from './zip-names.js';
export { openSmallZip, type SmallZip } from './zip-small.js';
export { PackageZip, readZipMemberOnce, type ZipMember, type ZipLimits } from './zip-reader.js';
export { extractPackage, type ExtractOptions } from './zip-extract.js';
export { writeZip, sourceDateEpoch, type ZipInput } from './zip-writer.js';
export { hashFile, sha256File, type HashAlgo } from './hash-stream.js';
export { buildPackage, listPayload, readSourceControl, type Signer, type BuildResult } from './build.js';
export { resignPackage, type ResignResult } from './resign.js';
export { checkControlSafety, unsafePackageNameReason, PYTHON_LINE_BREAKS } from './control-safety.js';
export { CHECKS as VERIFY_CHECKS, type VerifyCheck, type CheckName, type Verdict } from './verify-checks.js';
export { verifyPackage, readSignedParts, checkCodeSigningRule, type VerifiedPackage, type VerifyOptions } from './verify.js';
export { makeTemplate, makeTemplateFromInstaller, TEMPLATE_KINDS, isTemplateKind, type TemplateKind } from './templates.js';
export { readMsi, type MsiProduct } from './msi/index.js';
export {
  unpackVerified,
  readControlFile,
  editSourceControl,
  assertPackageName,
  prefixedName,
  bumpPackaging,
  applyRequirementEdits,
  type RequirementEdits,
  type ListDiff,
} from './source-edit.js';
export { editManagementPackage, type EditManagementOptions, type EditManagementResult, type ManagementKind } from './management-edit.js';
export { isHostPackageName, checkHostPackage, verifyHostPackageFile, type AcceptedHostPackage } from './host-package.js';
