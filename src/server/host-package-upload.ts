// Host package uploads to `serve` (edit-host --server, role admin):
// PUT /api/v1/host-packages/<uuid>.wapt. The body goes to an exclusive temp file in the
// host repository and is checked there, through one handle, as the agent will check it:
// the package verifies against serve's trusted directory, its signer may sign host
// packages (verifyHostPackageFile, the agent's own check), it is a code-free `section: host` package
// (W-D5), it is named after the host of its file name (W-F4), and it never goes back
// from the file it replaces (checkHostPackage, the agent's own rule). Then it is renamed
// into place: a host fetching its package sees the old file or the new one.
import { randomBytes } from 'node:crypto';
import { lstat, rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { isWaptError } from '../errors.js';
import type { TrustStore } from '../crypto/index.js';
import { checkHostPackage, field, sha256File, verifyHostPackageFile, type AcceptedHostPackage, type VerifiedPackage } from '../package/index.js';
import { receiveUpload, UploadRefused } from './publisher.js';
import { hostKey } from './store/index.js';

export interface HostPackageUploadOptions {
  hostRepoDir: string;
  trust: TrustStore;
  maxBytes: number;
  now?: () => Date;
}

export interface HostUploadOutcome {
  status: 'published' | 'unchanged' | 'replaced';
  path: string;
  package: string;
  version: string;
  from_version: string | null;
}

/** A refusal of ours (a WaptError code) as an HTTP answer: 422 for the package, 409 for what it would replace. */
function refusedAs(status: number, err: unknown, file: string): UploadRefused {
  if (isWaptError(err)) return new UploadRefused(status, err.code, `${file}: ${err.message}`);
  return new UploadRefused(422, 'ZIP_INVALID', `${file}: ${(err as Error).message}`);
}

export class HostPackagePublisher {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: HostPackageUploadOptions) {}

  /** Serialised: two edits of one host must not race on the rollback check. */
  accept(req: IncomingMessage, filename: string): Promise<HostUploadOutcome> {
    const run = this.queue.then(() => this.acceptOne(req, filename));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private verified(file: string, label: string): Promise<VerifiedPackage> {
    return verifyHostPackageFile(file, { trust: this.opts.trust, at: (this.opts.now ?? (() => new Date()))(), source: label });
  }

  /** What the file in place says, as the agent would have recorded it; null when there is none. */
  private async current(dest: string, label: string): Promise<AcceptedHostPackage | null> {
    if (!(await lstat(dest).catch(() => null))) return null;
    const v = await this.verified(dest, label).catch((err: unknown) => {
      throw refusedAs(409, err, `the host package in place (${label}) does not verify, so nothing can replace it safely`);
    });
    return { package: v.package, version: v.version, signature_date: field(v.control, 'signature_date'), sha256: await sha256File(dest) };
  }

  private async acceptOne(req: IncomingMessage, filename: string): Promise<HostUploadOutcome> {
    const uuid = filename.replace(/\.wapt$/i, '');
    if (!hostKey(uuid) || !filename.endsWith('.wapt')) throw new UploadRefused(400, 'USAGE', 'the path must name one <host-uuid>.wapt file');
    const tmp = join(this.opts.hostRepoDir, `.upload-${process.pid}-${randomBytes(6).toString('hex')}.wapt`);
    const dest = join(this.opts.hostRepoDir, filename);
    try {
      await receiveUpload(req, tmp, this.opts.maxBytes);
      let v: VerifiedPackage;
      try {
        v = await this.verified(tmp, filename);
      } catch (err) {
        throw refusedAs(422, err, filename);
      }
      if (field(v.control, 'section') !== 'host') {
        throw new UploadRefused(422, 'CONTROL_INVALID', `${filename}: its control says section ${field(v.control, 'section') || '(none)'}, not host`);
      }
      // W-D5: a deployer key signs host packages, so they may carry no code
      if (v.setupKind !== 'none') throw new UploadRefused(422, 'PACKAGE_HAS_CODE', `${filename}: a host package may carry no setup.${v.setupKind}`);
      const sha256 = await sha256File(tmp);
      const last = await this.current(dest, filename);
      try {
        checkHostPackage(v, sha256, uuid, last, 'the upload offers');
      } catch (err) {
        throw refusedAs(409, err, filename);
      }
      const base = { path: dest, package: v.package, version: v.version, from_version: last?.version ?? null };
      if (last?.sha256 === sha256) return { status: 'unchanged', ...base };
      await rename(tmp, dest);
      return { status: last ? 'replaced' : 'published', ...base };
    } finally {
      await rm(tmp, { force: true });
    }
  }
}
