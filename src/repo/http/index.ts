// Repository HTTP client: the only module that talks HTTP(S) to repositories.
export type { DispatcherOptions } from './dispatcher.js';
export { HttpClient, type HttpOptions, type FetchOptions, type FetchResult } from './client.js';
export { parseVerifyCert, loadPin, derSha256, type VerifyCertMode } from './verify-cert.js';
export { proxyFromEnv, bypassesProxy } from './proxy.js';
export { redactUrl } from './errors.js';
export { postJson, sendForJson, type JsonResponse } from './post-json.js';
export { probeNotModified, type Validators } from './probe.js';
export { fetchPeerCertificate, normalizeFingerprint, type PeerCertificateInfo } from './peer-certificate.js';
