// Tests that need a real Windows host (reg.exe, msiexec, sc.exe, taskkill) are declared
// with describeWindows: they run on the windows CI runner and are skipped elsewhere with
// the reason printed, never silently.
export const ON_WINDOWS = process.platform === 'win32';

export function describeWindows(name: string, fn: () => void): void {
  if (ON_WINDOWS) {
    describe(name, fn);
    return;
  }
  // Printed at collection time so the skipped block and its reason show in every run's log.
  console.log(`SKIPPED (needs Windows; this host is ${process.platform}): ${name}`);
  describe.skip(`[needs Windows, skipped on ${process.platform}] ${name}`, fn);
}

/** The converse: blocks that check the off-Windows behaviour (a Windows host would really run msiexec). */
export function describeUnlessWindows(name: string, fn: () => void): void {
  if (!ON_WINDOWS) {
    describe(name, fn);
    return;
  }
  console.log(`SKIPPED (checks the behaviour off Windows; this host is win32): ${name}`);
  describe.skip(`[off-Windows behaviour, skipped on win32] ${name}`, fn);
}
