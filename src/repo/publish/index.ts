// Publishing packages into a repository directory (upload-package, build-upload, build-package -o).
export { publishToDir, checkPublishTarget, type PublishResult, type PublishStatus } from './publish.js';
