// Messages between the runner (parent) and child.ts over the fork IPC channel.
// JSON-serialised, so results and persistent values must be JSON-compatible.
import type { HookContext, HookName } from './api.js';

export interface HookJob {
  setupPath: string;
  hook: HookName;
  ctx: HookContext;
}

export type HookReply =
  | { ok: true; missing: boolean; result: unknown; persistent: Record<string, unknown> }
  | { ok: false; error: { message: string; stack?: string; code?: string }; persistent: Record<string, unknown> };

/** First message of the child: its listener is attached, the job may be sent (no race with module loading). */
export interface ChildReady {
  ready: true;
}

export type ChildMessage = ChildReady | HookReply;
