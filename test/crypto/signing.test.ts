import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateRsaKeyPair, parseCertificates, signSha256, verifySha256, mimeBase64, decodeBase64Loose, parsePrivateKey } from '../../src/crypto/index.js';
import { isWaptError } from '../../src/errors.js';
import { REPO, fixture, unzipMember } from './helpers.js';

const packages = readdirSync(REPO).filter((f) => f.endsWith('.wapt'));

describe('signSha256 / verifySha256 (RSA PKCS#1 v1.5, SHA-256)', () => {
  test('round-trip with a fresh key, and a flipped byte in data or signature fails', async () => {
    const { privateKey, publicKey } = await generateRsaKeyPair();
    const data = Buffer.from('WAPT manifest bytes\n');
    const sig = signSha256(privateKey, data);
    expect(sig).toHaveLength(256);
    expect(verifySha256(publicKey, data, sig)).toBe(true);
    const badData = Buffer.from(data);
    badData[3]! ^= 0x01;
    expect(verifySha256(publicKey, badData, sig)).toBe(false);
    const badSig = Buffer.from(sig);
    badSig[100]! ^= 0x80;
    expect(verifySha256(publicKey, data, badSig)).toBe(false);
  });

  test('string data is signed as UTF-8', async () => {
    const { privateKey, publicKey } = await generateRsaKeyPair();
    const sig = signSha256(privateKey, 'é');
    expect(verifySha256(publicKey, Buffer.from('é', 'utf8'), sig)).toBe(true);
    expect(verifySha256(publicKey, Buffer.from('é', 'latin1'), sig)).toBe(false);
  });

  test('a truncated signature blob gives false, not an exception', async () => {
    const { privateKey, publicKey } = await generateRsaKeyPair();
    const sig = signSha256(privateKey, 'x');
    expect(verifySha256(publicKey, 'x', sig.subarray(0, 10))).toBe(false);
  });

  test.each(packages)('W-D2: %s signature.sha256 verifies over manifest.sha256 with its certificate', (pkg) => {
    const manifest = unzipMember(join(REPO, pkg), 'WAPT/manifest.sha256');
    const sigText = unzipMember(join(REPO, pkg), 'WAPT/signature.sha256').toString('latin1');
    const [signer] = parseCertificates(unzipMember(join(REPO, pkg), 'WAPT/certificate.crt'));
    expect(verifySha256(signer!, manifest, decodeBase64Loose(sigText))).toBe(true);
    expect(verifySha256(signer!, Buffer.concat([manifest, Buffer.from(' ')]), decodeBase64Loose(sigText))).toBe(false);
  });

  test.each(packages)('W-D2: mimeBase64 reproduces %s signature.sha256 byte for byte', (pkg) => {
    const sigText = unzipMember(join(REPO, pkg), 'WAPT/signature.sha256').toString('latin1');
    expect(mimeBase64(decodeBase64Loose(sigText))).toBe(sigText);
  });

  test("signing the conformance manifest with the conformance key gives WAPT's exact signature file", () => {
    const pkg = join(REPO, 'tis-hello_1.2.3-4_PROD.wapt');
    const key = parsePrivateKey(fixture('keys', 'codesigner.pem'), undefined);
    const sig = signSha256(key, unzipMember(pkg, 'WAPT/manifest.sha256'));
    // PKCS#1 v1.5 is deterministic, so our bytes must equal WAPT's.
    expect(mimeBase64(sig)).toBe(unzipMember(pkg, 'WAPT/signature.sha256').toString('latin1'));
  });
});

describe('mimeBase64 layout', () => {
  test('76-character lines, each ending in \\n, last line shorter', () => {
    const text = mimeBase64(Buffer.alloc(256, 7));
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.slice(0, -1).every((l) => l.length === 76)).toBe(true);
    expect(lines.at(-1)!.length).toBe(Math.ceil(256 / 3) * 4 - 76 * 4);
  });
  test('exactly 57 bytes give one full line and a final newline', () => {
    expect(mimeBase64(Buffer.alloc(57))).toMatch(/^[A]{76}\n$/);
  });
  test('empty input gives empty text', () => {
    expect(mimeBase64(Buffer.alloc(0))).toBe('');
  });
});

describe('decodeBase64Loose', () => {
  const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]);
  test('accepts a single line, MIME lines, CRLF and stray spaces', () => {
    const b64 = bytes.toString('base64');
    expect(decodeBase64Loose(b64)).toEqual(bytes);
    expect(decodeBase64Loose(b64.slice(0, 4) + '\r\n' + b64.slice(4) + '\n')).toEqual(bytes);
    expect(decodeBase64Loose(' ' + b64.slice(0, 5) + ' \t' + b64.slice(5))).toEqual(bytes);
  });
  test.each([
    ['a non-base64 character', 'abc$defg'],
    ['url-safe alphabet', 'ab-_'],
    ['padding in the middle', 'ab==cdef'],
    ['an impossible length', 'abcde'],
  ])('rejects %s with SIGNATURE_INVALID', (_name, text) => {
    expect(() => decodeBase64Loose(text)).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    try {
      decodeBase64Loose(text);
    } catch (e) {
      expect(isWaptError(e, 'SIGNATURE_INVALID')).toBe(true);
    }
  });
});
