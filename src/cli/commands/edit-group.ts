// `wapt-get edit-group NAME`: change a group package's depends/conflicts in a repository directory,
// bump its version and re-sign it (a deployer key is enough: these packages carry no code, W-D5).
import type { CommandSpec } from '../command.js';
import { MANAGEMENT_EDIT_OPTIONS, runManagementEdit } from '../management-edit.js';

export const command: CommandSpec = {
  name: 'edit-group',
  summary: 'edit the depends/conflicts of a group package in a repository directory, bump and re-sign it',
  args: ['<name>'],
  options: MANAGEMENT_EDIT_OPTIONS,
  help: 'Example:\n  wapt-get edit-group tis-office --repo-dir /srv/wapt --add-depends tis-firefox --key k.pem --cert k.crt',
  async run(ctx, [name], opts) {
    await runManagementEdit(ctx, 'group', name as string, opts);
  },
};
