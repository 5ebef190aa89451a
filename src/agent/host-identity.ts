// The host's own key and self-signed certificate (WAPT gives each host one), made once
// under <dbdir>/host-identity/ and reused: the server pins it at registration, so a new
// key means the admin must forget the host there first.
//
// The key is stored UNENCRYPTED (mode 0600, directory 0700): an unattended agent has
// nobody to type a password. Whoever can read dbdir can speak for this host.
import { randomBytes, type KeyObject, type X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { WaptError } from '../errors.js';
import { ensurePrivateDir, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, tightenPrivateFile } from '../private-state.js';
import {
  fingerprintSha256,
  generateRsaKeyPair,
  issueCertificate,
  keyMatchesCertificate,
  loadPrivateKey,
  parseCertificates,
  privateKeyToEncryptedPem,
  certificateToPem,
} from '../crypto/index.js';

export const HOST_IDENTITY_DIR = 'host-identity';
const KEY_FILE = 'host.key';
const CERT_FILE = 'host.crt';
const SEQUENCE_FILE = 'sequence';
const VALID_DAYS = 3650;

export interface HostIdentity {
  dir: string;
  keyPath: string;
  certPath: string;
  key: KeyObject;
  certificate: X509Certificate;
  fingerprint: string;
  /** True when this call made the key (first registration). */
  created: boolean;
}

export interface HostIdentityOptions {
  hostUuid: string;
  onWarning?: (msg: string) => void;
  now?: Date;
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

async function load(dir: string, opts: HostIdentityOptions): Promise<HostIdentity> {
  const keyPath = join(dir, KEY_FILE);
  const certPath = join(dir, CERT_FILE);
  // Whoever reads the key speaks for this host: 0700/0600, tightened with a warning if wider.
  await ensurePrivateDir(dir, { onWarning: opts.onWarning });
  await tightenPrivateFile(keyPath, { onWarning: opts.onWarning });
  const key = await loadPrivateKey(keyPath, undefined, { onWarning: opts.onWarning });
  let pem: Buffer;
  try {
    pem = await fs.readFile(certPath);
  } catch (err) {
    throw new WaptError('IO_ERROR', `cannot read host certificate ${certPath}: ${(err as Error).message}`, { cause: err, detail: { path: certPath } });
  }
  const certificate = parseCertificates(pem)[0]!;
  if (!keyMatchesCertificate(key, certificate)) {
    throw new WaptError('KEY_CERT_MISMATCH', `${keyPath} does not belong to ${certPath}`, { detail: { key: keyPath, cert: certPath } });
  }
  const now = (opts.now ?? new Date()).getTime();
  if (Date.parse(certificate.validTo) <= now) {
    throw new WaptError(
      'CERT_EXPIRED',
      `host certificate ${certPath} expired on ${certificate.validTo}: move ${dir} aside, ask the server admin to forget this host, then register again`,
      {
        detail: { path: certPath, validTo: certificate.validTo },
      },
    );
  }
  return { dir, keyPath, certPath, key, certificate, fingerprint: fingerprintSha256(certificate), created: false };
}

/**
 * Loads <dbdir>/host-identity, or creates it: both files are written into a temp
 * directory renamed into place, so a concurrent run never sees half a pair (the loser
 * of a race drops its own and loads the winner's).
 */
export async function loadOrCreateHostIdentity(dbdir: string, opts: HostIdentityOptions): Promise<HostIdentity> {
  const dir = join(dbdir, HOST_IDENTITY_DIR);
  if (await exists(join(dir, KEY_FILE))) return load(dir, opts);

  const now = opts.now ?? new Date();
  const pair = await generateRsaKeyPair(2048);
  const cert = await issueCertificate({
    commonName: opts.hostUuid, // WAPT host certificates carry the host UUID as CN
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
    codeSigning: false,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter: new Date(now.getTime() + VALID_DAYS * 86_400_000),
  });
  await ensurePrivateDir(dbdir, { onWarning: opts.onWarning });
  const tmp = join(dbdir, `.${HOST_IDENTITY_DIR}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(tmp, { mode: PRIVATE_DIR_MODE });
  try {
    // 'wx': fresh files in our fresh 0700 directory, never through a planted link.
    await fs.writeFile(join(tmp, KEY_FILE), privateKeyToEncryptedPem(pair.privateKey, ''), { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    await fs.writeFile(join(tmp, CERT_FILE), certificateToPem(cert), { mode: 0o644, flag: 'wx' });
    try {
      await fs.rename(tmp, dir); // replaces an empty directory; fails on a non-empty one
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      if (!(await exists(join(dir, KEY_FILE)))) {
        throw new WaptError('IO_ERROR', `${dir} exists without ${KEY_FILE}: move it aside and run again`, { cause: err, detail: { path: dir } });
      }
      return load(dir, opts); // another run made it first
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return { ...(await load(dir, opts)), created: true };
}

/**
 * Our addition against replays: every report carries a sequence the server must see grow.
 * max(last + 1, now in ms) survives both a lost counter file and a clock set back.
 */
export async function nextSequence(identityDir: string, now: Date = new Date()): Promise<number> {
  const file = join(identityDir, SEQUENCE_FILE);
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '0';
    throw new WaptError('IO_ERROR', `cannot read ${file}: ${err.message}`, { cause: err, detail: { path: file } });
  });
  const last = /^\d+$/.test(text.trim()) ? Number(text.trim()) : 0;
  const next = Math.max(last + 1, now.getTime());
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.writeFile(tmp, `${next}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw new WaptError('IO_ERROR', `cannot write ${file}: ${(err as Error).message}`, { cause: err, detail: { path: file } });
  }
  return next;
}
