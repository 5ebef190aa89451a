// X3 with a CRL made by a real peer: `openssl ca -revoke` + `-gencrl`, signed by the
// conformance CA key, revoking the WAPT-made code-signing certificate.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrustStore, parseCertificates } from '../../src/crypto/index.js';
import { KEYS, TRUSTED, fixture, openssl, tempDir } from './helpers.js';

const [codesigner] = parseCertificates(fixture('keys', 'codesigner.crt'));
const [deployer] = parseCertificates(fixture('keys', 'deployer.crt'));

let tmp: ReturnType<typeof tempDir>;
let crlPem: string;
beforeAll(() => {
  tmp = tempDir();
  const d = tmp.dir;
  writeFileSync(join(d, 'index.txt'), '');
  writeFileSync(
    join(d, 'ca.cnf'),
    [
      '[ ca ]',
      'default_ca = CA_default',
      '[ CA_default ]',
      `database = ${join(d, 'index.txt')}`,
      `new_certs_dir = ${d}`,
      `certificate = ${join(TRUSTED, 'ca.crt')}`,
      `private_key = ${join(KEYS, 'ca.pem')}`,
      `crlnumber = ${join(d, 'crlnumber')}`,
      'default_md = sha256',
      'default_crl_days = 30',
      'policy = policy_any',
      '[ policy_any ]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  writeFileSync(join(d, 'crlnumber'), '01\n');
  openssl(['ca', '-batch', '-config', join(d, 'ca.cnf'), '-revoke', join(KEYS, 'codesigner.crt'), '-crl_reason', 'keyCompromise']);
  openssl(['ca', '-batch', '-config', join(d, 'ca.cnf'), '-gencrl', '-out', join(d, 'crl.pem')]);
  openssl(['crl', '-in', join(d, 'crl.pem'), '-outform', 'DER', '-out', join(d, 'crl.der')]);
  crlPem = readFileSync(join(d, 'crl.pem'), 'utf8');
});
afterAll(() => tmp.cleanup());

function trustedWith(crlFile: string, name: string): string {
  const d = join(tmp.dir, name);
  mkdirSync(d);
  copyFileSync(join(TRUSTED, 'ca.crt'), join(d, 'ca.crt'));
  copyFileSync(join(tmp.dir, crlFile), join(d, name === 'pem-in-pem' ? 'revoked.pem' : 'ca.crl'));
  return d;
}

test('the openssl CRL is labelled X509 CRL and lists the codesigner serial', () => {
  expect(crlPem).toMatch(/^-----BEGIN X509 CRL-----/);
  expect(openssl(['crl', '-noout', '-text'], crlPem)).toContain(`Serial Number: ${codesigner!.serialNumber}`);
});

test.each([
  ['PEM .crl', 'crl.pem', 'pem-crl'],
  ['DER .crl', 'crl.der', 'der-crl'],
  ['PEM CRL in a .pem file', 'crl.pem', 'pem-in-pem'],
])('%s from `openssl ca -gencrl` revokes the codesigner → CERT_REVOKED; the deployer still verifies', async (_n, file, name) => {
  const store = await TrustStore.load(trustedWith(file, name));
  expect(store.crlCount).toBe(1);
  expect(() => store.verifyChain(codesigner!)).toThrow(
    expect.objectContaining({ code: 'CERT_REVOKED', message: expect.stringContaining('conformance-codesigner') }),
  );
  expect(store.verifyChain(deployer!).chain).toHaveLength(2);
});
