// B2: who may read the fleet. Admin paths are off until admins are configured; then a
// request needs a token from --admin-tokens-file (Bearer, or Basic with the token as
// password for browsers) or a client certificate issued by --admin-ca (mTLS). The tokens
// file is re-read when it changes, so adding or revoking an admin needs no restart.
import { createHash, type X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ApiError } from '../registry/http.js';

export const ROLES = ['view', 'operate', 'admin'] as const;
export type Role = (typeof ROLES)[number];
const RANK: Record<Role, number> = { view: 1, operate: 2, admin: 3 };

export interface Principal {
  name: string;
  role: Role;
  via: 'token' | 'mtls';
}

interface TokenEntry {
  name: string;
  role: Role;
}

export interface AdminAuthOptions {
  tokensFile?: string;
  /** Set when --admin-ca is given: the TLS layer verified client certificates against it. */
  adminCa?: boolean;
  onWarning?: (msg: string) => void;
}

export const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** `NAME ROLE SHA256HEX` lines; `#` comments and blank lines ignored; bad lines reported, never fatal. */
export function parseTokensFile(text: string, onWarning: (m: string) => void = () => undefined): Map<string, TokenEntry> {
  const out = new Map<string, TokenEntry>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [name, role, hash, ...rest] = line.split(/\s+/);
    if (!name || !role || !hash || rest.length || !(ROLES as readonly string[]).includes(role) || !/^[0-9a-fA-F]{64}$/.test(hash)) {
      onWarning(`admin tokens file line ${i + 1} ignored: expected NAME ROLE SHA256HEX with ROLE one of ${ROLES.join(', ')}`);
      return;
    }
    out.set(hash.toLowerCase(), { name, role: role as Role });
  });
  return out;
}

/** The role a certificate from --admin-ca carries: its OU when that names a role, else admin. */
function roleOfCertificate(cert: X509Certificate): { name: string; role: Role } {
  const fields = cert.subject.split('\n');
  const cn = fields.find((f) => f.startsWith('CN='))?.slice(3) ?? cert.serialNumber;
  const ou = fields.find((f) => f.startsWith('OU='))?.slice(3);
  return { name: cn, role: ou && (ROLES as readonly string[]).includes(ou) ? (ou as Role) : 'admin' };
}

function credentialOf(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(h);
  if (!m) throw new ApiError(401, 'AUTH_INVALID', 'Authorization must be "Bearer TOKEN" or Basic with the token as password');
  if (m[1]!.toLowerCase() === 'bearer') return m[2]!;
  const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? decoded : decoded.slice(colon + 1);
}

export class AdminAuth {
  private tokens = new Map<string, TokenEntry>();
  private stamp = '';

  constructor(private readonly opts: AdminAuthOptions) {}

  get configured(): boolean {
    return Boolean(this.opts.tokensFile || this.opts.adminCa);
  }

  /** Reads the tokens file if it changed since the last look (inode, size, mtime). */
  async refresh(): Promise<void> {
    const file = this.opts.tokensFile;
    if (!file) return;
    const st = await fs.stat(file).catch(() => null);
    const stamp = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : 'absent';
    if (stamp === this.stamp) return;
    if (!st) {
      this.opts.onWarning?.(`admin tokens file ${file} is gone: every token is refused until it is back`);
      this.tokens = new Map();
    } else {
      this.tokens = parseTokensFile(await fs.readFile(file, 'utf8'), this.opts.onWarning);
    }
    this.stamp = stamp;
  }

  /** The caller, or null when no credential was presented; 401 for a wrong one. */
  async identify(req: IncomingMessage): Promise<Principal | null> {
    const token = credentialOf(req);
    if (token !== null) {
      await this.refresh();
      const hit = this.opts.tokensFile ? this.tokens.get(sha256Hex(token)) : undefined;
      if (!hit) throw new ApiError(401, 'AUTH_INVALID', 'the admin token is not valid', { 'www-authenticate': 'Basic realm="wapt-get", charset="UTF-8"' });
      return { ...hit, via: 'token' };
    }
    const sock = req.socket as TLSSocket;
    if (this.opts.adminCa && sock.authorized === true && typeof sock.getPeerX509Certificate === 'function') {
      const cert = sock.getPeerX509Certificate();
      if (cert) return { ...roleOfCertificate(cert), via: 'mtls' };
    }
    return null;
  }

  /** B2: 403 ADMIN_DISABLED before set-up, 401 without a credential, 403 without the role. */
  async require(req: IncomingMessage, role: Role): Promise<Principal> {
    if (!this.configured) {
      throw new ApiError(403, 'ADMIN_DISABLED', 'admin access is off: start serve with --admin-tokens-file FILE or --admin-ca FILE');
    }
    const who = await this.identify(req);
    if (!who)
      throw new ApiError(401, 'AUTH_REQUIRED', 'this path needs an admin credential', { 'www-authenticate': 'Basic realm="wapt-get", charset="UTF-8"' });
    if (RANK[who.role] < RANK[role]) throw new ApiError(403, 'ROLE_REQUIRED', `this needs the ${role} role; ${who.name} has ${who.role}`);
    return who;
  }
}
