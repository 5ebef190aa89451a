// The `serve` room: a small HTTPS file server for repositories (demos, small sites).
export { startServer, createRouter, waitForSignal, cacheControlFor, pathSegments, HOST_PREFIX, REPO_ALIAS_PREFIX } from './serve.js';
export type { ServeOptions, RunningServer, Mount } from './serve.js';
export { createStaticHandler } from './static-files.js';
export { ensureSelfSignedTls, type SelfSignedTls } from './tls-selfsigned.js';
