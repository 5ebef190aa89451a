// sc.exe (WAPT setuphelpers service_start / service_stop / service_is_running): argument
// building and the parser of `sc query` output. Pure.
import type { ServiceState } from '../api.js';

/** sc.exe exit codes that are answers, not failures. */
export const SC = {
  SERVICE_DOES_NOT_EXIST: 1060,
  ALREADY_RUNNING: 1056,
  NOT_ACTIVE: 1062,
} as const;

export function assertServiceName(name: string): string {
  // Service key names: no slashes, no control characters; sc parses `name=` as an option.
  if (!/^[^\\/\x00-\x1f=]{1,256}$/.test(name)) throw new Error(`invalid service name ${JSON.stringify(name)}`);
  return name;
}

export const scQueryArgs = (name: string): string[] => ['query', assertServiceName(name)];
export const scStartArgs = (name: string): string[] => ['start', assertServiceName(name)];
export const scStopArgs = (name: string): string[] => ['stop', assertServiceName(name)];

const BY_CODE: Record<string, ServiceState> = {
  '1': 'STOPPED',
  '2': 'START_PENDING',
  '3': 'STOP_PENDING',
  '4': 'RUNNING',
  '5': 'CONTINUE_PENDING',
  '6': 'PAUSE_PENDING',
  '7': 'PAUSED',
};

/** `        STATE              : 4  RUNNING` → RUNNING, from the numeric code (the word may be localised). */
export function parseScState(stdout: string): ServiceState | undefined {
  const m = /^\s*STATE\s*:\s*(\d+)\b/m.exec(stdout);
  return m ? BY_CODE[m[1]!] : undefined;
}
