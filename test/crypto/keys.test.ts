import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateRsaKeyPair,
  keyMatchesCertificate,
  loadPrivateKey,
  parseCertificates,
  privateKeyToEncryptedPem,
  signSha256,
  verifySha256,
} from '../../src/crypto/index.js';
import { KEYS, fixture, openssl, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

function writeKey(name: string, pem: string, mode = 0o600): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, pem, { mode });
  chmodSync(p, mode);
  return p;
}

describe('privateKeyToEncryptedPem / loadPrivateKey', () => {
  test('round-trip with a password: PKCS#8 AES-256-CBC, same key back', async () => {
    const { privateKey, publicKey } = await generateRsaKeyPair(2048);
    const pem = privateKeyToEncryptedPem(privateKey, 's3cret');
    expect(pem.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----\n')).toBe(true);
    // A real peer confirms the cipher: openssl reads the PKCS#8 structure.
    const info = openssl(['asn1parse'], pem);
    expect(info).toMatch(/aes-256-cbc/);
    const loaded = await loadPrivateKey(writeKey('k.pem', pem), 's3cret');
    expect(verifySha256(publicKey, 'data', signSha256(loaded, 'data'))).toBe(true);
  });

  test('an encrypted key written by us is readable by openssl with the same password', async () => {
    const { privateKey } = await generateRsaKeyPair();
    const p = writeKey('k.pem', privateKeyToEncryptedPem(privateKey, 'pw-1'));
    expect(openssl(['pkey', '-in', p, '-passin', 'pass:pw-1', '-noout', '-text'])).toMatch(/Private-Key: \(2048 bit/);
  });

  test("password '' writes an unencrypted PKCS#8 key (tests only)", async () => {
    const { privateKey } = await generateRsaKeyPair();
    const pem = privateKeyToEncryptedPem(privateKey, '');
    expect(pem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    await expect(loadPrivateKey(writeKey('k.pem', pem), undefined)).resolves.toBeDefined();
  });

  test('wrong password → KEY_PASSWORD_WRONG', async () => {
    const { privateKey } = await generateRsaKeyPair();
    const p = writeKey('k.pem', privateKeyToEncryptedPem(privateKey, 'right'));
    await expect(loadPrivateKey(p, 'wrong')).rejects.toMatchObject({ code: 'KEY_PASSWORD_WRONG' });
  });

  test('missing password for an encrypted key → KEY_PASSWORD_WRONG', async () => {
    const { privateKey } = await generateRsaKeyPair();
    const p = writeKey('k.pem', privateKeyToEncryptedPem(privateKey, 'right'));
    await expect(loadPrivateKey(p, undefined)).rejects.toMatchObject({ code: 'KEY_PASSWORD_WRONG', message: expect.stringContaining('no password') });
  });

  test('a traditional encrypted RSA PEM made by openssl (Proc-Type) loads with its password', async () => {
    const p = join(tmp.dir, 'trad.pem');
    openssl(['genrsa', '-traditional', '-aes256', '-passout', 'pass:trad', '-out', p, '2048']);
    expect(readFileSync(p, 'latin1')).toMatch(/Proc-Type: 4,ENCRYPTED/);
    chmodSync(p, 0o600);
    await expect(loadPrivateKey(p, 'trad')).resolves.toMatchObject({ asymmetricKeyType: 'rsa' });
    await expect(loadPrivateKey(p, 'nope')).rejects.toMatchObject({ code: 'KEY_PASSWORD_WRONG' });
  });

  test.each(['codesigner', 'deployer', 'ca'])('the conformance key %s.pem (traditional, unencrypted) loads', async (name) => {
    const key = await loadPrivateKey(join(KEYS, `${name}.pem`), undefined);
    expect(key.asymmetricKeyType).toBe('rsa');
  });

  test('missing key file → KEY_UNREADABLE naming the path', async () => {
    const p = join(tmp.dir, 'absent.pem');
    await expect(loadPrivateKey(p, undefined)).rejects.toMatchObject({ code: 'KEY_UNREADABLE', message: expect.stringContaining(p) });
  });

  test('a directory given as key path → KEY_UNREADABLE', async () => {
    const d = join(tmp.dir, 'adir');
    mkdirSync(d);
    await expect(loadPrivateKey(d, undefined)).rejects.toMatchObject({ code: 'KEY_UNREADABLE', message: expect.stringContaining(d) });
  });

  test('a file that is not a key → KEY_INVALID', async () => {
    await expect(loadPrivateKey(writeKey('junk.pem', 'hello world\n'), undefined)).rejects.toMatchObject({ code: 'KEY_INVALID' });
  });

  test('a certificate given as key → KEY_INVALID', async () => {
    const p = writeKey('cert.pem', fixture('keys', 'codesigner.crt').toString());
    await expect(loadPrivateKey(p, undefined)).rejects.toMatchObject({ code: 'KEY_INVALID' });
  });

  test('an EC key (not RSA) → KEY_INVALID', async () => {
    const p = join(tmp.dir, 'ec.pem');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p]);
    chmodSync(p, 0o600);
    await expect(loadPrivateKey(p, undefined)).rejects.toMatchObject({ code: 'KEY_INVALID', message: expect.stringContaining('ec') });
  });

  test('mode 0644 key file → a warning naming the mode; 0600 → none', async () => {
    const { privateKey } = await generateRsaKeyPair();
    const pem = privateKeyToEncryptedPem(privateKey, 'pw');
    const warnings: string[] = [];
    await loadPrivateKey(writeKey('open.pem', pem, 0o644), 'pw', { onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/open\.pem.*0644/);
    warnings.length = 0;
    const closed = writeKey('closed.pem', pem, 0o600);
    expect(statSync(closed).mode & 0o777).toBe(0o600);
    await loadPrivateKey(closed, 'pw', { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
  });
});

describe('keyMatchesCertificate', () => {
  const [codesigner] = parseCertificates(fixture('keys', 'codesigner.crt'));
  test('the conformance key matches its certificate', async () => {
    expect(keyMatchesCertificate(await loadPrivateKey(join(KEYS, 'codesigner.pem'), undefined), codesigner!)).toBe(true);
  });
  test('another key does not match', async () => {
    expect(keyMatchesCertificate(await loadPrivateKey(join(KEYS, 'deployer.pem'), undefined), codesigner!)).toBe(false);
    expect(keyMatchesCertificate((await generateRsaKeyPair()).privateKey, codesigner!)).toBe(false);
  });
});

describe('generateRsaKeyPair', () => {
  test('3072 bits when asked', async () => {
    const { publicKey } = await generateRsaKeyPair(3072);
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
  });
  test('an unsupported size (1024) → USAGE', async () => {
    await expect(generateRsaKeyPair(1024 as 2048)).rejects.toMatchObject({ code: 'USAGE' });
  });
});
