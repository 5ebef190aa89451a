// `wapt-get action sign --host UUID --key K --cert C ACTION [ARGS…]` (F3A): an admin signs
// an action on their own workstation (the key never goes to the server) and gets the
// signed JSON to POST to <server>/api/v1/actions (role operate). The agent runs it only
// if the signer chains to its action_signers_dir, the UUID is its own, now is within
// [signed_at − 60 s, not_after], and the id never ran there.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { signerPathsFrom } from '../context.js';
import { loadSigner, SIGNER_OPTIONS } from '../signing-key.js';

export const command: CommandSpec = {
  name: 'action',
  summary: 'sign an action for one host (update, upgrade, install NAME…, remove NAME…, forget NAME…, update-status, audit)',
  args: ['<verb>', '<action>', '[args...]'],
  options: [
    { flags: '--host <uuid>', description: 'the host UUID the action is for' },
    ...SIGNER_OPTIONS,
    { flags: '--window <seconds>', description: 'validity after signing (F3A default 60; longer for agents that only run from cron)', default: '60' },
    { flags: '-o, --out <file>', description: 'write the signed action here (0600) instead of stdout' },
  ],
  help: [
    'Example: wapt-get action sign --host 0f1e…-uuid --key admin.pem --cert admin.crt install tis-firefox',
    'Queue it: curl --cacert server.crt -H "Authorization: Bearer $TOKEN" -H "content-type: application/json" \\',
    '  --data-binary @action.json https://server:8443/api/v1/actions',
  ].join('\n'),
  async run(ctx, [verb, action, rest], opts) {
    if (verb !== 'sign') throw new WaptError('USAGE', 'wapt-get action sign --host UUID --key K --cert C ACTION [ARGS…]');
    if (!opts.host) throw new WaptError('USAGE', 'action sign needs --host UUID');
    if (!/^\d{1,7}$/.test(String(opts.window)) || Number(opts.window) < 1) throw new WaptError('USAGE', `--window ${opts.window}: seconds, at least 1`);
    const { signAction, ACTION_NAMES } = await import('../../protocol/index.js');
    if (!(ACTION_NAMES as readonly string[]).includes(String(action)))
      throw new WaptError('USAGE', `unknown action ${String(action)}: one of ${ACTION_NAMES.join(', ')}`);
    const signer = await loadSigner(ctx, await signerPathsFrom(ctx, opts));
    let signed;
    try {
      signed = signAction(
        {
          hostUuid: String(opts.host),
          action: action as (typeof ACTION_NAMES)[number],
          args: (rest as string[] | undefined) ?? [],
          windowSecs: Number(opts.window),
        },
        { key: signer.key, chain: signer.certificates },
      );
    } catch (err) {
      throw new WaptError('USAGE', (err as Error).message, { cause: err });
    }
    const text = JSON.stringify(signed, null, 2) + '\n';
    if (opts.out) {
      await writeFile(resolve(ctx.cwd, opts.out), text, { mode: 0o600 });
      ctx.out.info(`signed action ${signed.id} for ${signed.host_uuid}, valid until ${signed.not_after}: ${opts.out}`);
      return;
    }
    process.stdout.write(text);
  },
};
