// The `serve` room: a small HTTPS file server for repositories (demos, small sites), and
// the optional fleet side (registration, signed reports, admin API, dashboard, relay).
export { startServer, createRouter, waitForSignal, cacheControlFor, pathSegments, HOST_PREFIX, REPO_ALIAS_PREFIX } from './serve.js';
export type { ServeOptions, RunningServer, Mount } from './serve.js';
export { createStaticHandler } from './static-files.js';
export { ensureSelfSignedTls, type SelfSignedTls } from './tls-selfsigned.js';
export { openStore, openTokenStore, type FleetStore, type EnrollToken, type StoreOptions } from './store/index.js';
export { parseTokensFile, sha256Hex, ROLES, type Role } from './admin/auth.js';
export { startFleetServices, type FleetServicesOptions } from './services.js';
export { Relay, RELAY_DIR } from './relay.js';
export { Publisher, UploadRefused, type PublisherOptions, type UploadOutcome } from './publisher.js';
export { HostPackagePublisher, type HostPackageUploadOptions, type HostUploadOutcome } from './host-package-upload.js';
