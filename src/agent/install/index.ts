// The public door of the install machinery: verbs for the CLI, building blocks for tests.
export { installVerb, upgradeVerb, removeVerb, forgetVerb } from './verbs.js';
export { downloadUpgradeVerb, cleanVerb, checkUpgradesVerb, holdVerb, type CleanOutcome, type CheckOutcome, type HoldOutcome } from './maintenance.js';
export { withRuntime, currentUser, type VerbIo, type VerbOptions, type VerbOutcome } from './session.js';
export { recoverInterrupted, ERR_INTERRUPTED, type Leftover } from './recover.js';
export { installPackage, recordFailure, type StepResult, type TransactionDeps } from './transaction.js';
export { removePackage, type RemoveDeps } from './remove.js';
export { executePlan, downloadPlan, type ExecuteDeps } from './execute.js';
export { runLimited, type Settled } from './parallel.js';
export { obtainVerified, verifyLocal, type FetchDeps } from './fetch.js';
export { makePlan, LOCAL_REPO, type PlanContext, type LocalPackage } from './plan.js';
export { planJson, planLines, resultLine, describeStep, type PlanJson } from './report.js';
export { installTarget, assertFreeSpace } from './rights.js';
