// `wapt-get edit-host NAME`: change a host package's depends/conflicts in a repository directory,
// bump its version and re-sign it (a deployer key is enough: these packages carry no code, W-D5).
import type { CommandSpec } from '../command.js';
import { MANAGEMENT_EDIT_OPTIONS, runManagementEdit } from '../management-edit.js';

export const command: CommandSpec = {
  name: 'edit-host',
  summary: 'edit the depends/conflicts of a host package in a repository directory, bump and re-sign it',
  args: ['<name>'],
  options: MANAGEMENT_EDIT_OPTIONS,
  help: 'Example:\n  wapt-get edit-host 0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0 --repo-dir /srv/wapt-host --add-depends tis-firefox --key k.pem --cert k.crt',
  async run(ctx, [name], opts) {
    await runManagementEdit(ctx, 'host', name as string, opts);
  },
};
