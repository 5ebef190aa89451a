// X2: the signed index statement (docs/index-statement.md).
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintSha256, TrustStore } from '../../src/crypto/index.js';
import { readPackagesZip, writePackagesZip } from '../../src/repo/index-file/packages-zip.js';
import { parseDuration } from '../../src/repo/statement/duration.js';
import {
  createStatement,
  nextStatementVersion,
  STATEMENT_MEMBER,
  STATEMENT_SIGNATURE_MEMBER,
  verifyStatement,
  type VerifyStatementOptions,
} from '../../src/repo/statement/statement.js';

const CONF = join(process.cwd(), 'fixtures/conformance');
const KEYS = join(CONF, 'wapt-made/keys');
const DAY = 86_400_000;
const NOW = new Date('2026-11-23T12:00:00Z');

let tmp: string;
let key: KeyObject;
let cert: X509Certificate;
let trust: TrustStore;
let rogueKey: KeyObject;
let rogueCert: X509Certificate;
const packagesBytes = Buffer.from('package           : tis-a\nversion           : 1\n');

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-stmt-'));
  key = createPrivateKey(await readFile(join(KEYS, 'codesigner.pem')));
  cert = new X509Certificate(await readFile(join(KEYS, 'codesigner.crt')));
  trust = await TrustStore.load(join(CONF, 'wapt-made/trusted'));
  // A real self-signed key pair the trusted directory knows nothing about.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=rogue-repo',
      '-days',
      '3650',
      '-keyout',
      join(tmp, 'rogue.pem'),
      '-out',
      join(tmp, 'rogue.crt'),
    ],
    { stdio: 'ignore' },
  );
  rogueKey = createPrivateKey(await readFile(join(tmp, 'rogue.pem')));
  rogueCert = new X509Certificate(await readFile(join(tmp, 'rogue.crt')));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function opts(over: Partial<VerifyStatementOptions> = {}): VerifyStatementOptions {
  return { trust, certificates: [cert], now: NOW, lastSeenVersion: null, requireSigned: true, ...over };
}

function make(over: { previousVersion?: number | null; expiresInMs?: number; now?: Date } = {}) {
  return createStatement({
    packagesBytes,
    previousVersion: over.previousVersion ?? null,
    expiresInMs: over.expiresInMs ?? 7 * DAY,
    key,
    cert,
    now: over.now ?? NOW,
    repository: 'main',
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('X2 statement: sign and verify', () => {
  test('a fresh statement verifies and reports version, dates and signer', () => {
    const s = make();
    const v = verifyStatement(s.bytes, s.signature, packagesBytes, opts())!;
    expect(v.version).toBe(Math.floor(NOW.getTime() / 1000));
    expect(v.created.toISOString()).toBe(NOW.toISOString());
    expect(v.expires.getTime()).toBe(NOW.getTime() + 7 * DAY);
    expect(v.fingerprint).toBe(fingerprintSha256(cert));
    expect(v.repository).toBe('main');
  });

  test('canonical bytes: fixed key order, compact JSON, no trailing newline; signature is one base64 line', () => {
    const s = make();
    const text = s.bytes.toString('utf8');
    expect(Object.keys(JSON.parse(text))).toEqual(['format', 'repository', 'version', 'created', 'expires', 'packages_sha256', 'signer_fingerprint']);
    expect(text).not.toMatch(/\s/);
    expect(s.signature.toString('ascii')).toMatch(/^[A-Za-z0-9+/]+=*\n$/);
  });

  test('version: previous + 1, never below the Unix time in seconds', () => {
    const clock = Math.floor(NOW.getTime() / 1000);
    expect(nextStatementVersion(null, NOW)).toBe(clock);
    expect(nextStatementVersion(clock + 50, NOW)).toBe(clock + 51);
    expect(nextStatementVersion(5, NOW)).toBe(clock); // re-created repo dir still moves forward
    expect(make({ previousVersion: clock + 9 }).fields.version).toBe(clock + 10);
  });

  test('the same version as last seen is accepted (same index fetched again)', () => {
    const s = make();
    expect(verifyStatement(s.bytes, s.signature, packagesBytes, opts({ lastSeenVersion: s.fields.version }))!.version).toBe(s.fields.version);
  });

  test('key that does not belong to the certificate: KEY_CERT_MISMATCH at creation', () => {
    expect(codeOf(() => createStatement({ packagesBytes, previousVersion: null, expiresInMs: DAY, key: rogueKey, cert, now: NOW, repository: 'main' }))).toBe(
      'KEY_CERT_MISMATCH',
    );
  });

  test('non-positive lifetime: USAGE', () => {
    expect(codeOf(() => make({ expiresInMs: 0 }))).toBe('USAGE');
  });
});

describe('X2 statement: client refusals', () => {
  test('expired: INDEX_EXPIRED, the message says when and what to do', () => {
    const s = make({ expiresInMs: DAY });
    let err: Error | undefined;
    try {
      verifyStatement(s.bytes, s.signature, packagesBytes, opts({ now: new Date(NOW.getTime() + DAY + 1000) }));
    } catch (e) {
      err = e as Error;
    }
    expect((err as { code?: string }).code).toBe('INDEX_EXPIRED');
    expect(err!.message).toContain(new Date(NOW.getTime() + DAY).toISOString());
    expect(err!.message).toMatch(/scanpackages/);
  });

  test('older than last seen: INDEX_ROLLBACK', () => {
    const s = make();
    expect(codeOf(() => verifyStatement(s.bytes, s.signature, packagesBytes, opts({ lastSeenVersion: s.fields.version + 1 })))).toBe('INDEX_ROLLBACK');
  });

  test('Packages member altered: INDEX_DIGEST_MISMATCH', () => {
    const s = make();
    const altered = Buffer.from(packagesBytes.toString().replace('version           : 1', 'version           : 0'));
    expect(codeOf(() => verifyStatement(s.bytes, s.signature, altered, opts()))).toBe('INDEX_DIGEST_MISMATCH');
  });

  test('statement JSON edited after signing (version raised): SIGNATURE_INVALID', () => {
    const s = make();
    const edited = Buffer.from(s.bytes.toString().replace(`"version":${s.fields.version}`, `"version":${s.fields.version + 1000}`));
    expect(codeOf(() => verifyStatement(edited, s.signature, packagesBytes, opts()))).toBe('SIGNATURE_INVALID');
  });

  test('signature member missing or empty: SIGNATURE_INVALID', () => {
    const s = make();
    expect(codeOf(() => verifyStatement(s.bytes, null, packagesBytes, opts()))).toBe('SIGNATURE_INVALID');
    expect(codeOf(() => verifyStatement(s.bytes, Buffer.alloc(0), packagesBytes, opts()))).toBe('SIGNATURE_INVALID');
  });

  test('statement signed by an untrusted key: SIGNER_UNTRUSTED', () => {
    const s = createStatement({ packagesBytes, previousVersion: null, expiresInMs: DAY, key: rogueKey, cert: rogueCert, now: NOW, repository: 'main' });
    expect(codeOf(() => verifyStatement(s.bytes, s.signature, packagesBytes, opts({ certificates: [cert, rogueCert] })))).toBe('SIGNER_UNTRUSTED');
  });

  test('signer certificate not shipped in the index: SIGNER_UNTRUSTED', () => {
    const s = make();
    expect(codeOf(() => verifyStatement(s.bytes, s.signature, packagesBytes, opts({ certificates: [] })))).toBe('SIGNER_UNTRUSTED');
  });

  test('no statement and requireSigned: INDEX_UNSIGNED; without requireSigned: null', () => {
    expect(codeOf(() => verifyStatement(null, null, packagesBytes, opts()))).toBe('INDEX_UNSIGNED');
    expect(verifyStatement(null, null, packagesBytes, opts({ requireSigned: false }))).toBeNull();
  });

  test.each([
    ['not JSON', '{"format":1,'],
    ['a JSON list', '[]'],
    ['an unknown format', '{"format":2}'],
    ['a negative version', JSON.stringify({ format: 1, repository: '', version: -1 })],
    [
      'a bad digest',
      JSON.stringify({ format: 1, repository: '', version: 1, created: NOW, expires: NOW, packages_sha256: 'xyz', signer_fingerprint: 'a'.repeat(64) }),
    ],
  ])('malformed statement (%s): INDEX_INVALID', (_what, text) => {
    expect(codeOf(() => verifyStatement(Buffer.from(text), Buffer.from('AAAA'), packagesBytes, opts()))).toBe('INDEX_INVALID');
  });
});

describe('X2 statement inside the Packages zip', () => {
  test('written next to Packages with its certificate in ssl/, read back and verified', async () => {
    const dest = join(tmp, 'Packages');
    const idx = await readPackagesZip(join(CONF, 'wapt-made/repo/Packages'));
    const res = await writePackagesZip(dest, {
      entries: idx.entries,
      certificates: [],
      now: NOW,
      statement: { key, cert, expiresInMs: DAY, previousVersion: 41, repository: 'main' },
    });
    const names = execFileSync('unzip', ['-Z1', dest], { encoding: 'utf8' }).trim().split('\n');
    expect(names).toEqual(['Packages', `ssl/${fingerprintSha256(cert)}.crt`, STATEMENT_MEMBER, STATEMENT_SIGNATURE_MEMBER]);
    const back = await readPackagesZip(dest);
    expect(back.packagesBytes.equals(idx.packagesBytes)).toBe(true);
    const v = verifyStatement(back.statement!.bytes, back.statement!.signature, back.packagesBytes, opts({ certificates: back.certificates }));
    expect(v!.version).toBe(res.statement!.version);
  });

  test('a WAPT-made index has no statement: accepted only when not required', async () => {
    const idx = await readPackagesZip(join(CONF, 'wapt-made-py2/repo/Packages'));
    expect(idx.statement).toBeNull();
    expect(verifyStatement(null, null, idx.packagesBytes, opts({ requireSigned: false, certificates: idx.certificates }))).toBeNull();
    expect(codeOf(() => verifyStatement(null, null, idx.packagesBytes, opts({ certificates: idx.certificates })))).toBe('INDEX_UNSIGNED');
  });
});

describe('parseDuration', () => {
  test.each([
    ['7d', 7 * DAY],
    ['12h', 12 * 3_600_000],
    ['30m', 30 * 60_000],
    ['3600s', 3_600_000],
    ['2w', 14 * DAY],
  ])('%s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each([['7'], ['d'], ['-1d'], ['1.5h'], ['0d'], ['7 days']])('bad duration %j: USAGE', (text) => {
    expect(codeOf(() => parseDuration(text))).toBe('USAGE');
  });
});

describe('issue 8 §1: the statement checked against the repository it claims to be (pure core)', () => {
  let deployerKey: KeyObject;
  let deployerCert: X509Certificate;
  beforeAll(async () => {
    deployerKey = createPrivateKey(await readFile(join(KEYS, 'deployer.pem')));
    deployerCert = new X509Certificate(await readFile(join(KEYS, 'deployer.crt')));
  });

  test('a deployer-signed statement (chains to trusted/) → SIGNER_NOT_ALLOWED', () => {
    const s = createStatement({ packagesBytes, previousVersion: null, expiresInMs: DAY, key: deployerKey, cert: deployerCert, now: NOW, repository: 'main' });
    expect(codeOf(() => verifyStatement(s.bytes, s.signature, packagesBytes, opts({ certificates: [deployerCert] })))).toBe('SIGNER_NOT_ALLOWED');
  });

  test('another repository than expected → INDEX_WRONG_REPOSITORY; the expected one passes', () => {
    const s = make();
    expect(codeOf(() => verifyStatement(s.bytes, s.signature, packagesBytes, opts({ expectedRepository: 'prod' })))).toBe('INDEX_WRONG_REPOSITORY');
    expect(verifyStatement(s.bytes, s.signature, packagesBytes, opts({ expectedRepository: 'main' }))!.repository).toBe('main');
  });

  test('version more than a day ahead of created, or created more than a day ahead of the clock → INDEX_VERSION_AHEAD', () => {
    const clock = Math.floor(NOW.getTime() / 1000);
    const ahead = make({ previousVersion: clock + 86_400 });
    expect(codeOf(() => verifyStatement(ahead.bytes, ahead.signature, packagesBytes, opts()))).toBe('INDEX_VERSION_AHEAD');
    const atLimit = make({ previousVersion: clock + 86_399 });
    expect(verifyStatement(atLimit.bytes, atLimit.signature, packagesBytes, opts())!.version).toBe(clock + 86_400);
    const future = make({ now: new Date(NOW.getTime() + 2 * DAY) });
    expect(codeOf(() => verifyStatement(future.bytes, future.signature, packagesBytes, opts()))).toBe('INDEX_VERSION_AHEAD');
  });

  test('equal version: the same packages pass, other packages → INDEX_VERSION_REUSED', () => {
    const s = make();
    const base = { lastSeenVersion: s.fields.version };
    expect(verifyStatement(s.bytes, s.signature, packagesBytes, opts({ ...base, lastSeenPackagesSha256: s.fields.packages_sha256 }))).not.toBeNull();
    expect(codeOf(() => verifyStatement(s.bytes, s.signature, packagesBytes, opts({ ...base, lastSeenPackagesSha256: 'f'.repeat(64) })))).toBe(
      'INDEX_VERSION_REUSED',
    );
  });
});
