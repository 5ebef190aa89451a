// The resolver's view of this host (W-C4), built once per verb from the resolved config.
import os from 'node:os';
import type { WaptConfig } from './config.js';
import type { Environment } from './resolver/types.js';
import { WAPT_COMPAT_VERSION } from '../version.js';

/** Node's platform names → W-C4 target_os names. Every other Unix answers as linux. */
export function hostOs(platform: NodeJS.Platform = process.platform): Environment['os'] {
  if (platform === 'win32') return 'windows';
  if (platform === 'darwin') return 'darwin';
  return 'linux';
}

export interface EnvironmentOverrides {
  architecture?: string;
  os?: Environment['os'];
  osVersion?: string;
  now?: Date;
}

export function hostEnvironment(config: WaptConfig, over: EnvironmentOverrides = {}): Environment {
  return {
    architecture: over.architecture ?? config.architecture,
    maturities: config.maturities,
    locales: config.locales,
    os: over.os ?? hostOs(),
    osVersion: over.osVersion ?? os.release(),
    waptVersion: WAPT_COMPAT_VERSION,
    now: over.now ?? new Date(),
  };
}
