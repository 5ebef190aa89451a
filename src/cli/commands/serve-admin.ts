// `wapt-get serve-admin …`: the server admin's chores, run on the server machine against
// its store (--data-dir, or --db postgres://…):
//   enroll-token [--uses N] [--expires 7d] [--label L]   a new enrolment token (F1A), shown once
//   enroll-token list | enroll-token revoke ID
//   admin-token NAME ROLE                                 a new admin token and its --admin-tokens-file line
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';

/** 90d, 12h, 30m, 45s → ms. */
export function parseRetention(flag: string, text: string): number {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new WaptError('USAGE', `${flag} ${text}: a positive age such as 90d, 12h, 30m`, { detail: { value: text } });
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export const command: CommandSpec = {
  name: 'serve-admin',
  summary: "manage serve's enrolment tokens and admin tokens (on the server machine)",
  args: ['<what>', '[args...]'],
  options: [
    { flags: '--data-dir <dir>', description: 'the data directory of serve' },
    { flags: '--db <url>', description: 'postgres://… when serve uses PostgreSQL' },
    { flags: '--uses <n>', description: 'enroll-token: how many hosts may register with it', default: '1' },
    { flags: '--expires <age>', description: 'enroll-token: lifetime, e.g. 7d, 12h', default: '7d' },
    { flags: '--label <text>', description: 'enroll-token: a label (site, batch)', default: '' },
  ],
  help: [
    'enroll-token: prints the token ONCE (only its SHA-256 is stored); hosts register with',
    '  `WAPT_GET_REGISTRATION_TOKEN=… wapt-get register` or `wapt-get register --token-file F`.',
    'enroll-token list: id, label, uses left, expiry, revoked.  enroll-token revoke ID.',
    'admin-token NAME ROLE (view, operate, admin): prints a token and the line to add to --admin-tokens-file.',
  ].join('\n'),
  async run(ctx, [what, rest], opts) {
    const args = (rest as string[] | undefined) ?? [];
    const { sha256Hex, ROLES } = await import('../../server/index.js');
    if (what === 'admin-token') {
      const [name, role] = args;
      if (!name || !/^[A-Za-z0-9._@-]{1,64}$/.test(name) || !role || !(ROLES as readonly string[]).includes(role)) {
        throw new WaptError('USAGE', `serve-admin admin-token NAME ROLE, with ROLE one of ${ROLES.join(', ')}`);
      }
      const token = randomBytes(24).toString('base64url');
      const line = `${name} ${role} ${sha256Hex(token)}`;
      ctx.out.result({ name, role, token, line }, () => [`token ${token}`, `add to the admin tokens file: ${line}`]);
      return;
    }
    if (what !== 'enroll-token') throw new WaptError('USAGE', 'serve-admin enroll-token … or serve-admin admin-token NAME ROLE');
    if (!opts.dataDir && !opts.db) throw new WaptError('USAGE', 'serve-admin enroll-token needs --data-dir DIR (or --db postgres://…)');
    const { openTokenStore } = await import('../../server/index.js');
    const store = await openTokenStore({ dataDir: opts.dataDir ? resolve(ctx.cwd, opts.dataDir) : '', db: opts.db });
    try {
      const now = new Date();
      if (args[0] === 'list') {
        const tokens = (await store.listEnrollTokens()).map(({ hash: _h, ...t }) => t);
        ctx.out.result({ tokens }, () =>
          tokens.length
            ? tokens.map((t) => `${t.id}  ${t.label || '-'}  ${t.uses_left}/${t.uses_total} left  expires ${t.expires_at}${t.revoked_at ? '  REVOKED' : ''}`)
            : ['no enrolment token'],
        );
        return;
      }
      if (args[0] === 'revoke') {
        if (!args[1]) throw new WaptError('USAGE', 'serve-admin enroll-token revoke ID (see enroll-token list)');
        if (!(await store.revokeEnrollToken(args[1], now.toISOString()))) throw new WaptError('USAGE', `no active enrolment token ${args[1]}`);
        ctx.out.result({ id: args[1], revoked: true }, () => `revoked ${args[1]}`);
        return;
      }
      if (args.length) throw new WaptError('USAGE', `serve-admin enroll-token: unknown ${args[0]} (list, revoke ID, or options only to create)`);
      if (!/^\d{1,7}$/.test(String(opts.uses)) || Number(opts.uses) < 1) throw new WaptError('USAGE', `--uses ${opts.uses}: a whole number, at least 1`);
      const lifetime = parseRetention('--expires', String(opts.expires));
      const label = String(opts.label ?? '').slice(0, 100);
      const token = `wgr-${randomBytes(24).toString('base64url')}`;
      const t = {
        id: randomBytes(6).toString('hex'),
        hash: sha256Hex(token),
        label,
        uses_left: Number(opts.uses),
        uses_total: Number(opts.uses),
        expires_at: new Date(now.getTime() + lifetime).toISOString(),
        created_at: now.toISOString(),
        revoked_at: null,
      };
      await store.addEnrollToken(t);
      const { hash: _h, ...shown } = t;
      ctx.out.result({ ...shown, token }, () => [
        `token ${token}`,
        `id ${t.id}, ${t.uses_total} uses, expires ${t.expires_at}${label ? `, label ${label}` : ''} (shown once: only its hash is kept)`,
      ]);
    } finally {
      await store.close();
    }
  },
};
