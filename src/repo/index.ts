// The public door of src/repo: the Packages index, the signed index statement,
// scanpackages and the HTTP client. Other rooms import from here only.
export * from './index-file/index.js';
export * from './statement/index.js';
export * from './scan/index.js';
export * from './http/index.js';
export * from './publish/index.js';
