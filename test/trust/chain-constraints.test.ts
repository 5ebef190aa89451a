// Issue 8 §8: chain building ignored basicConstraints pathLenConstraint and the
// intermediates' extendedKeyUsage, so an intermediate limited to serverAuth (a TLS sub-CA)
// could issue a code signer whose packages then ran as root. Both are now enforced as
// OpenSSL enforces them (RFC 5280 4.2.1.9; a CA's EKU bounds what it may vouch for; an
// absent EKU or anyExtendedKeyUsage allows all). Certificates made by real `openssl` and
// by our own issuing code; `openssl verify` is the oracle where it has the purpose.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  certificateToPem,
  createCaCertificate,
  generateRsaKeyPair,
  issueCertificate,
  parseCertificates,
  privateKeyToEncryptedPem,
  TrustStore,
} from '../../src/crypto/index.js';
import { buildPackage } from '../../src/package/index.js';
import { runCli } from '../helpers/cli.js';
import { writeSourceDir } from '../helpers/packages.js';

const EXT = `
[root]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[root_pathlen0]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[inter]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[inter_pathlen0]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[inter_tls]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[inter_any]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
extendedKeyUsage=anyExtendedKeyUsage
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[inter_codesign]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
extendedKeyUsage=codeSigning
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[leaf_codesign]
basicConstraints=critical,CA:FALSE
keyUsage=digitalSignature
extendedKeyUsage=critical,codeSigning
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[leaf_deployer]
basicConstraints=critical,CA:FALSE
keyUsage=digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[leaf_client]
basicConstraints=critical,CA:FALSE
extendedKeyUsage=clientAuth
authorityKeyIdentifier=keyid
`;

interface Made {
  cert: X509Certificate;
  key: KeyObject;
  crt: string;
  pem: string;
}

let dir: string;
const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
let serial = 1;

/** An openssl certificate: self-signed with `ext` when no issuer, else signed by `issuer`. */
function make(name: string, ext: string, issuer?: Made): Made {
  const pem = join(dir, `${name}.key`);
  const crt = join(dir, `${name}.crt`);
  openssl(['genrsa', '-out', pem, '2048']);
  if (issuer) {
    const csr = join(dir, `${name}.csr`);
    openssl(['req', '-new', '-key', pem, '-subj', `/CN=${name}`, '-out', csr]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      issuer.crt,
      '-CAkey',
      issuer.pem,
      '-set_serial',
      String(serial++),
      '-days',
      '30',
      '-sha256',
      '-extfile',
      join(dir, 'ext.cnf'),
      '-extensions',
      ext,
      '-out',
      crt,
    ]);
  } else {
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      pem,
      '-subj',
      `/CN=${name}`,
      '-days',
      '30',
      '-sha256',
      '-config',
      join(dir, 'req.cnf'),
      '-extensions',
      ext,
      '-out',
      crt,
    ]);
  }
  return { cert: parseCertificates(readFileSync(crt))[0]!, key: createPrivateKey(readFileSync(pem)), crt, pem };
}

/** openssl's own verdict for the chain (leaf, untrusted intermediates, trusted root). */
function opensslVerify(root: Made, inters: Made[], leaf: Made, purpose?: string): string {
  writeFileSync(join(dir, 'untrusted.pem'), inters.map((i) => readFileSync(i.crt, 'utf8')).join(''));
  try {
    return openssl([
      'verify',
      '-CAfile',
      root.crt,
      ...(inters.length ? ['-untrusted', join(dir, 'untrusted.pem')] : []),
      ...(purpose ? ['-purpose', purpose] : []),
      leaf.crt,
    ]).trim();
  } catch (err) {
    return String((err as { stderr: Buffer }).stderr);
  }
}

function ours(root: Made | X509Certificate, inters: (Made | X509Certificate)[], leaf: Made | X509Certificate): string {
  const c = (x: Made | X509Certificate) => ('cert' in x ? x.cert : x);
  try {
    TrustStore.fromCertificates([c(root)]).verifyChain(c(leaf), inters.map(c));
    return 'OK';
  } catch (err) {
    return (err as { code: string }).code;
  }
}

let root: Made, root0: Made, inter: Made, inter0: Made, interTls: Made, interAny: Made, interCs: Made;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wapt-chain-'));
  writeFileSync(join(dir, 'ext.cnf'), EXT);
  writeFileSync(join(dir, 'req.cnf'), `[req]\ndistinguished_name=dn\n[dn]\n${EXT}`);
  root = make('root', 'root');
  root0 = make('root-pathlen0', 'root_pathlen0');
  inter = make('inter', 'inter', root);
  inter0 = make('inter-pathlen0', 'inter_pathlen0', root);
  interTls = make('inter-tls', 'inter_tls', root);
  interAny = make('inter-any', 'inter_any', root);
  interCs = make('inter-codesign', 'inter_codesign', root);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pathLenConstraint (RFC 5280 4.2.1.9), as openssl verify decides it', () => {
  test('root pathlen:0 → intermediate → code signer: refused (CERT_CONSTRAINT); openssl: path length constraint exceeded', () => {
    const i = make('inter-under-root0', 'inter', root0);
    const leaf = make('cs-under-root0', 'leaf_codesign', i);
    expect(opensslVerify(root0, [i], leaf)).toMatch(/path length constraint exceeded/);
    expect(ours(root0, [i], leaf)).toBe('CERT_CONSTRAINT');
  });
  test('intermediate pathlen:0 → code signer: accepted by both (the leaf is not a CA)', () => {
    const leaf = make('cs-under-inter0', 'leaf_codesign', inter0);
    expect(opensslVerify(root, [inter0], leaf)).toMatch(/: OK$/);
    expect(ours(root, [inter0], leaf)).toBe('OK');
  });
  test('intermediate pathlen:0 → another intermediate → code signer: refused by both', () => {
    const i2 = make('inter-under-inter0', 'inter', inter0);
    const leaf = make('cs-under-inter2', 'leaf_codesign', i2);
    expect(opensslVerify(root, [inter0, i2], leaf)).toMatch(/path length constraint exceeded/);
    expect(ours(root, [inter0, i2], leaf)).toBe('CERT_CONSTRAINT');
  });
});

describe("the intermediate's extendedKeyUsage bounds what it may issue", () => {
  test('openssl itself refuses a leaf whose purpose its intermediate does not allow (serverAuth CA, clientAuth leaf, -purpose sslclient)', () => {
    const leaf = make('client-under-tls', 'leaf_client', interTls);
    expect(opensslVerify(root, [interTls], leaf, 'sslclient')).toMatch(/unsupported certificate purpose|unsuitable certificate purpose/);
  });
  test('a serverAuth-only intermediate issuing a code signer: refused (CERT_CONSTRAINT)', () => {
    expect(ours(root, [interTls], make('cs-under-tls', 'leaf_codesign', interTls))).toBe('CERT_CONSTRAINT');
  });
  test('anyExtendedKeyUsage, codeSigning or no EKU on the intermediate: the code signer is accepted', () => {
    expect(ours(root, [interAny], make('cs-under-any', 'leaf_codesign', interAny))).toBe('OK');
    expect(ours(root, [interCs], make('cs-under-cs', 'leaf_codesign', interCs))).toBe('OK');
    expect(ours(root, [inter], make('cs-under-plain', 'leaf_codesign', inter))).toBe('OK');
  });
  test('a deployer (no EKU, no code-signing right to borrow) under the serverAuth intermediate is still accepted', () => {
    expect(ours(root, [interTls], make('deployer-under-tls', 'leaf_deployer', interTls))).toBe('OK');
  });
  test('with our own issuing code: our CA → openssl serverAuth intermediate → our code-signing leaf: refused; via a plain intermediate of ours: accepted', async () => {
    const caKey = await generateRsaKeyPair();
    const ca = await createCaCertificate({ commonName: 'our CA', key: caKey });
    const caDir = join(dir, 'ours');
    mkdirSync(caDir);
    const caMade: Made = { cert: ca, key: caKey.privateKey, crt: join(caDir, 'ca.crt'), pem: join(caDir, 'ca.key') };
    writeFileSync(caMade.crt, certificateToPem(ca));
    writeFileSync(caMade.pem, privateKeyToEncryptedPem(caKey.privateKey, ''));
    const tls = make('our-tls-sub-ca', 'inter_tls', caMade);
    const leafKey = await generateRsaKeyPair();
    const leaf = await issueCertificate({
      commonName: 'our code signer',
      publicKey: leafKey.publicKey,
      codeSigning: true,
      issuer: { cert: tls.cert, privateKey: tls.key },
    });
    expect(ours(ca, [tls.cert], leaf)).toBe('CERT_CONSTRAINT');
    const plainKey = await generateRsaKeyPair();
    const plain = await issueCertificate({
      commonName: 'our sub CA',
      publicKey: plainKey.publicKey,
      codeSigning: false,
      isCa: true,
      issuer: { cert: ca, privateKey: caKey.privateKey },
    });
    const leaf2 = await issueCertificate({
      commonName: 'our code signer 2',
      publicKey: leafKey.publicKey,
      codeSigning: true,
      issuer: { cert: plain, privateKey: plainKey.privateKey },
    });
    expect(ours(ca, [plain], leaf2)).toBe('OK');
  });
});

describe('the attack end to end: a package with setup.mjs signed by a code signer a TLS sub-CA issued', () => {
  test('verify (real binary) refuses it, exit 3 CERT_CONSTRAINT; the same package from a plain intermediate verifies', async () => {
    const trusted = join(dir, 'trusted');
    mkdirSync(trusted);
    writeFileSync(join(trusted, 'root.crt'), readFileSync(root.crt));
    const build = async (name: string, issuer: Made) => {
      const leaf = make(`${name}-signer`, 'leaf_codesign', issuer);
      const src = writeSourceDir(mkdtempSync(join(dir, 'src-')), {
        control: { package: name, version: '1.0-1', architecture: 'all', section: 'base', priority: 'optional' },
        files: { 'setup.mjs': 'export async function install(h) { h.log("ran as root"); }\n' },
      });
      const out = mkdtempSync(join(dir, 'out-'));
      return (
        await buildPackage(src, { signer: { key: leaf.key, certificates: [leaf.cert, issuer.cert] }, outDir: out, date: new Date(), reproducible: false })
      ).path;
    };
    const evil = await build('tis-tls-signed', interTls);
    const good = await build('tis-plain-signed', inter);
    const r = await runCli(['--json', 'verify', '--trusted', trusted, evil, good]);
    expect(r.code).toBe(3);
    const [e, g] = JSON.parse(r.stdout).results;
    expect(e).toMatchObject({ ok: false, code: 'CERT_CONSTRAINT' });
    expect(e.message).toMatch(/inter-tls.*extendedKeyUsage/);
    expect(g).toMatchObject({ ok: true, code_signing: true });
  });
});
