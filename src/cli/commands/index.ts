// The list of verbs. Each verb's module is loaded only when that verb runs (or for
// help, which lists them all), so start-up does not pay for thirty modules it will
// not use. test/cli/commands-index.test.ts checks these names against the modules.
import type { CommandSpec } from '../command.js';

export interface CommandEntry {
  name: string;
  aliases?: string[];
  load: () => Promise<CommandSpec>;
}

export const commandEntries: CommandEntry[] = [
  { name: 'create-ca', load: async () => (await import('./create-ca.js')).command },
  { name: 'create-keycert', load: async () => (await import('./create-keycert.js')).command },
  { name: 'make-template', load: async () => (await import('./make-template.js')).command },
  { name: 'build-package', load: async () => (await import('./build-package.js')).command },
  { name: 'sign', aliases: ['sign-package'], load: async () => (await import('./sign.js')).command },
  { name: 'verify', aliases: ['verify-package'], load: async () => (await import('./verify.js')).command },
  { name: 'scanpackages', aliases: ['scan-packages'], load: async () => (await import('./scanpackages.js')).command },
  { name: 'refresh-index', load: async () => (await import('./refresh-index.js')).command },
  { name: 'serve', load: async () => (await import('./serve.js')).command },
  { name: 'bundle', load: async () => (await import('./bundle.js')).command },
  { name: 'mirror', load: async () => (await import('./mirror.js')).command },
  { name: 'update', load: async () => (await import('./update.js')).command },
  { name: 'list', load: async () => (await import('./list.js')).command },
  { name: 'search', load: async () => (await import('./search.js')).command },
  { name: 'show', load: async () => (await import('./show.js')).command },
  { name: 'list-upgrade', load: async () => (await import('./list-upgrade.js')).command },
  { name: 'download', load: async () => (await import('./download.js')).command },
  { name: 'install', load: async () => (await import('./install.js')).command },
  { name: 'upgrade', load: async () => (await import('./upgrade.js')).command },
  { name: 'remove', aliases: ['uninstall'], load: async () => (await import('./remove.js')).command },
  { name: 'forget', load: async () => (await import('./forget.js')).command },
  { name: 'download-upgrade', load: async () => (await import('./download-upgrade.js')).command },
  { name: 'clean', load: async () => (await import('./clean.js')).command },
  { name: 'check-upgrades', load: async () => (await import('./check-upgrades.js')).command },
  { name: 'hold', load: async () => (await import('./hold.js')).command },
  { name: 'unhold', load: async () => (await import('./unhold.js')).command },
  { name: 'audit', load: async () => (await import('./audit.js')).command },
  { name: 'session-setup', load: async () => (await import('./session-setup.js')).command },
  { name: 'inventory', load: async () => (await import('./inventory.js')).command },
  { name: 'register', load: async () => (await import('./register.js')).command },
  { name: 'unregister', load: async () => (await import('./unregister.js')).command },
  { name: 'update-status', load: async () => (await import('./update-status.js')).command },
  { name: 'serve-admin', load: async () => (await import('./serve-admin.js')).command },
  { name: 'action', load: async () => (await import('./action.js')).command },
  { name: 'agent', load: async () => (await import('./agent.js')).command },
  { name: 'duplicate', load: async () => (await import('./duplicate.js')).command },
  { name: 'edit', load: async () => (await import('./edit.js')).command },
  { name: 'make-host-template', load: async () => (await import('./make-host-template.js')).command },
  { name: 'edit-host', load: async () => (await import('./edit-host.js')).command },
  { name: 'edit-group', load: async () => (await import('./edit-group.js')).command },
  { name: 'upload-package', load: async () => (await import('./upload-package.js')).command },
  { name: 'build-upload', load: async () => (await import('./build-upload.js')).command },
  { name: 'update-package-sources', load: async () => (await import('./update-package-sources.js')).command },
  { name: 'get-server-certificate', load: async () => (await import('./get-server-certificate.js')).command },
  { name: 'enable-check-certificate', load: async () => (await import('./enable-check-certificate.js')).command },
  { name: 'generate-uuid', load: async () => (await import('./generate-uuid.js')).command },
  { name: 'reset-uuid', load: async () => (await import('./reset-uuid.js')).command },
  { name: 'show-params', load: async () => (await import('./show-params.js')).command },
  { name: 'sources', load: async () => (await import('./sources.js')).command },
  { name: 'add-upgrade-shutdown', load: async () => (await import('./add-upgrade-shutdown.js')).command },
  { name: 'remove-upgrade-shutdown', load: async () => (await import('./remove-upgrade-shutdown.js')).command },
  { name: 'compare-versions', load: async () => (await import('./compare-versions.js')).command },
  { name: 'config', load: async () => (await import('./config.js')).command },
  { name: 'doctor', load: async () => (await import('./doctor.js')).command },
  { name: 'history', load: async () => (await import('./history.js')).command },
  { name: 'completion', load: async () => (await import('./completion.js')).command },
];

/** Global options that take a value: their value is not the verb. */
const VALUE_OPTIONS = new Set(['-c', '--config']);

/** The verb named on the command line, if it is one of ours. */
export function findEntry(args: string[]): CommandEntry | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return commandEntries.find((e) => e.name === a || e.aliases?.includes(a));
  }
  return undefined;
}

/** Only the verb being run; none for --version; every verb otherwise (help, a typo: commander suggests). */
export async function loadCommands(args: string[]): Promise<CommandSpec[]> {
  const entry = findEntry(args);
  if (!entry && args.some((a) => a === '-V' || a === '--version')) return [];
  return Promise.all((entry ? [entry] : commandEntries).map((e) => e.load()));
}
