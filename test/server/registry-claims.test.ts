// Signed claims (source notes §10): the bytes we sign are what Python's json.dumps
// (sort_keys, compact) writes, the signature verifies with openssl, and the server-side
// verifier refuses each malformed or altered shape by name.
import { spawnSync } from 'node:child_process';
import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimSignedBlob, parseSignatureDate, pythonUtcIso, signClaim, signReport, REPORT_ATTRIBUTES, type SignedClaim } from '../../src/protocol/index.js';
import { certificateToPem, generateRsaKeyPair, issueCertificate } from '../../src/crypto/index.js';
import { ApiError, verifyClaim } from '../../src/server/registry/index.js';

interface Id {
  key: KeyObject;
  cert: X509Certificate;
}
let a: Id;
let b: Id;
let tmp: string;

async function makeId(cn: string, o: { notBefore?: Date; notAfter?: Date } = {}): Promise<Id> {
  const { privateKey, publicKey } = await generateRsaKeyPair(2048);
  const cert = await issueCertificate({ commonName: cn, publicKey, privateKey, codeSigning: false, days: 30, ...o });
  return { key: privateKey, cert };
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wg-claims-'));
  [a, b] = await Promise.all([makeId('host-a'), makeId('host-b')]);
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const opts = (cert: X509Certificate, now = new Date()) => ({ certificate: cert, required: REPORT_ATTRIBUTES, maxAgeSecs: 6 * 3600, now });
const report = (over: Record<string, unknown> = {}, id: Id = a, now?: Date) =>
  signReport('status', 'UUID-1', 5, { hostname: 'pc-1', packages: [{ package: 'x', install_status: 'OK' }], ...over }, { key: id.key, chain: [id.cert] }, now);

function refused(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('signing (interop)', () => {
  test('the signed blob is byte for byte Python json.dumps(sort_keys=True, separators=(",", ":")) and openssl verifies the signature', async () => {
    const claim = report({ hostname: 'pc-é€😀 "q"\\/', zeta: { b: 1, a: [true, null] } });
    const blob = claimSignedBlob(claim, claim.signed_attributes);
    const py = spawnSync(
      'python3',
      [
        '-c',
        [
          'import json,sys',
          'c=json.load(sys.stdin)',
          'd=dict((k,c.get(k)) for k in c["signed_attributes"])',
          'sys.stdout.write(json.dumps(d,sort_keys=True,separators=(",",":")))',
        ].join('\n'),
      ],
      { input: JSON.stringify(claim), encoding: 'utf8' },
    );
    expect(py.status).toBe(0);
    expect(py.stdout).toBe(blob);

    await writeFile(join(tmp, 'blob'), blob);
    await writeFile(join(tmp, 'sig'), Buffer.from(claim.signature, 'base64'));
    await writeFile(join(tmp, 'pub.pem'), a.cert.publicKey.export({ type: 'spki', format: 'pem' }));
    const ssl = spawnSync('openssl', ['dgst', '-sha256', '-verify', join(tmp, 'pub.pem'), '-signature', join(tmp, 'sig'), join(tmp, 'blob')], {
      encoding: 'utf8',
    });
    expect(ssl.stdout.trim()).toBe('Verified OK');
  });

  test('§10 attributes: signer is the cert sha256, signed_attributes a JSON list ending with the signature fields, date like utcnow().isoformat()', () => {
    const claim = report({}, a, new Date('2024-03-05T06:07:08.123Z'));
    expect(claim.signer).toBe(createHash('sha256').update(a.cert.raw).digest('hex'));
    expect(claim.signed_attributes.slice(-4)).toEqual(['signed_attributes', 'signer', 'signature_date', 'signer_certificate']);
    expect(claim.signed_attributes).toEqual(expect.arrayContaining(['host_uuid', 'sequence', 'report_type', 'hostname', 'packages']));
    expect(claim.signature_date).toBe('2024-03-05T06:07:08.123000');
    expect(claim.signer_certificate).toBe(certificateToPem(a.cert));
    expect(claim.signature).not.toMatch(/\s/);
  });

  test('signature_date: WAPT form (no zone = UTC), Z and offsets parse; garbage is NaN', () => {
    expect(parseSignatureDate('2024-03-05T06:07:08.123456')).toBe(Date.parse('2024-03-05T06:07:08.123Z'));
    expect(parseSignatureDate('2024-03-05T06:07:08')).toBe(Date.parse('2024-03-05T06:07:08Z'));
    expect(parseSignatureDate('2024-03-05T08:07:08+02:00')).toBe(Date.parse('2024-03-05T06:07:08Z'));
    expect(parseSignatureDate('yesterday')).toBeNaN();
    expect(pythonUtcIso(new Date('2024-01-01T00:00:00.000Z'))).toBe('2024-01-01T00:00:00.000000');
  });

  test('signClaim drops signature fields given in the data and signs the rest', () => {
    const c = signClaim({ x: 1, signature: 'old', signer: 'forged' }, { key: a.key, chain: [a.cert] });
    expect(c.signer).not.toBe('forged');
    expect(c.signed_attributes).toEqual(['x', 'signed_attributes', 'signer', 'signature_date', 'signer_certificate']);
  });
});

describe('verifyClaim', () => {
  test('accepts a fresh claim by the expected certificate', () => {
    expect(verifyClaim(report(), opts(a.cert)).sequence).toBe(5);
  });

  const cases: [string, (c: SignedClaim) => unknown, number, string][] = [
    ['not an object', () => 'claim', 400, 'MALFORMED'],
    ['signed_attributes as a CSV string', (c) => ({ ...c, signed_attributes: c.signed_attributes.join(',') }), 400, 'MALFORMED'],
    ['signed_attributes listing one twice', (c) => ({ ...c, signed_attributes: [...c.signed_attributes, 'hostname'] }), 400, 'MALFORMED'],
    ['sequence not signed', (c) => ({ ...c, signed_attributes: c.signed_attributes.filter((x) => x !== 'sequence') }), 400, 'MALFORMED'],
    [
      'signed attribute absent from the claim',
      (c) => {
        const { hostname: _h, ...rest } = c;
        return rest;
      },
      400,
      'MALFORMED',
    ],
    ['unsigned attribute riding along', (c) => ({ ...c, extra: 1 }), 400, 'MALFORMED'],
    ['signature not base64', (c) => ({ ...c, signature: '%%%' }), 400, 'MALFORMED'],
    ['signature_date unparsable', (c) => ({ ...c, signature_date: 'soon' }), 403, 'BAD_SIGNATURE'],
    ['a float value (not canonical across Python/JS)', (c) => ({ ...c, hostname: 1.5 }), 400, 'MALFORMED'],
    ['signer fingerprint of another certificate', (c) => ({ ...c, signer: '0'.repeat(64) }), 403, 'SIGNER_MISMATCH'],
    ['signer_certificate of another host', (c) => ({ ...c, signer_certificate: certificateToPem(b.cert) }), 403, 'SIGNER_MISMATCH'],
    ['signer_certificate not PEM', (c) => ({ ...c, signer_certificate: 'nope' }), 400, 'MALFORMED'],
    ['a value changed after signing', (c) => ({ ...c, hostname: 'pc-2' }), 403, 'BAD_SIGNATURE'],
    ['a nested value changed after signing', (c) => ({ ...c, packages: [{ package: 'x', install_status: 'ERROR' }] }), 403, 'BAD_SIGNATURE'],
  ];
  test.each(cases)('refuses %s', (_name, mutate, status, code) => {
    const e = refused(() => verifyClaim(mutate(report()), opts(a.cert)));
    expect([e.status, e.code]).toEqual([status, code]);
  });

  test('refuses a claim signed by another key (403 SIGNER_MISMATCH)', () => {
    const e = refused(() => verifyClaim(report({}, b), opts(a.cert)));
    expect([e.status, e.code]).toEqual([403, 'SIGNER_MISMATCH']);
  });

  test('refuses a signature older or newer than the 6 h window; accepts 5 h 59 min', () => {
    const now = new Date();
    const at = (h: number) => new Date(now.getTime() + h * 3600_000);
    expect(refused(() => verifyClaim(report({}, a, at(-6.02)), opts(a.cert, now))).code).toBe('STALE_SIGNATURE');
    expect(refused(() => verifyClaim(report({}, a, at(6.02)), opts(a.cert, now))).code).toBe('STALE_SIGNATURE');
    expect(verifyClaim(report({}, a, at(-5.98)), opts(a.cert, now)).signer).toBe(createHash('sha256').update(a.cert.raw).digest('hex'));
  });

  test('refuses a claim by an expired host certificate (403 CERT_INVALID)', async () => {
    const old = await makeId('old', { notBefore: new Date(Date.now() - 10 * 86400_000), notAfter: new Date(Date.now() - 86400_000) });
    const e = refused(() => verifyClaim(report({}, old), opts(old.cert)));
    expect([e.status, e.code]).toEqual([403, 'CERT_INVALID']);
  });
});
