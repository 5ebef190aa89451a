// Automatic reports (outbox, sender, the cycle every verb ends with) and the agent loop.
export { Outbox, OUTBOX_DIR, type OutboxEntry } from './outbox.js';
export { sendOutbox, existingIdentity, postClaim, serverEndpoint, serverAndHost, type Delivery, type SenderDeps, type PendingUpgrade } from './sender.js';
export { reportCycle, eventsOf, type CycleResult, type CycleOptions, type ResultLike } from './cycle.js';
export { agentLoop, type AgentLoopOptions } from './agent-loop.js';
export { unregisterHost, type UnregisterOutcome } from './unregister.js';
