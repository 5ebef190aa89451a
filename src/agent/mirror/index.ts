// Replicated repositories (issue 12 §5): `wapt-get mirror URL DIR`.
export { runMirror, type MirrorOptions, type MirrorReport } from './mirror.js';
export { MIRROR_STATE_FILE, MIRROR_LOCK_FILE, MIRROR_WORK_DIR, readMirrorState, type MirrorState } from './state.js';
export { mirrorRepository, type MirrorRequest } from './setup.js';
