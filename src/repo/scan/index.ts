// The public door of scanpackages (W-F2).
export { scanPackages, PACKAGES_FILE, type ScanOptions, type ScanResult, type ScanSigning, type ScanSkip } from './scan.js';
export { SCAN_CACHE_FILE } from './cache.js';
export { refreshIndex, type RefreshOptions, type RefreshResult } from './refresh.js';
