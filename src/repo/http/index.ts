// Repository HTTP client: the only module that talks HTTP(S) to repositories.
export type { DispatcherOptions } from './dispatcher.js';
export { HttpClient, type HttpOptions, type FetchOptions, type FetchResult } from './client.js';
export { parseVerifyCert, loadPin, derSha256, type VerifyCertMode } from './verify-cert.js';
export { proxyFromEnv, bypassesProxy } from './proxy.js';
export { redactUrl } from './errors.js';
export { postJson } from './post-json.js';
