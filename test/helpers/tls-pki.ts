// Real test TLS material made with the openssl CLI (tests only: the product
// never shells out to openssl). `openssl ca` is used for leaves because it is
// the only 3.0-era way to set explicit (past) validity dates for the expired cert.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsPki {
  dir: string;
  caCert: string;
  caKey: string;
  /** SAN IP:127.0.0.1, DNS:localhost; signed by caCert. */
  serverCert: string;
  serverKey: string;
  /** Same SANs, validity 2020-01-01 → 2020-02-01. */
  expiredCert: string;
  expiredKey: string;
  /** SAN DNS:other.example only; signed by caCert. */
  wrongHostCert: string;
  wrongHostKey: string;
  clientCaCert: string;
  clientCaKey: string;
  clientCert: string;
  clientKey: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function caConfig(dir: string): string {
  return `[ ca ]
default_ca = CA_default
[ CA_default ]
database = ${dir}/index.txt
new_certs_dir = ${dir}/newcerts
serial = ${dir}/serial
default_md = sha256
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = supplied
[ v3_server ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[ v3_wronghost ]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example
[ v3_client ]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = clientAuth
`;
}

async function makeCa(dir: string, name: string, cn: string): Promise<[string, string]> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '30',
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return [cert, key];
}

async function makeLeaf(dir: string, conf: string, ca: [string, string], name: string, cn: string, ext: string, dates: string[]): Promise<[string, string]> {
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await run('openssl', ['req', '-new', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
  await run('openssl', ['ca', '-batch', '-notext', '-config', conf, '-cert', ca[0], '-keyfile', ca[1], '-in', csr, '-out', cert, '-extensions', ext, ...dates]);
  return [cert, key];
}

export async function makeTlsPki(dir: string): Promise<TlsPki> {
  await mkdir(join(dir, 'newcerts'), { recursive: true });
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), '1000\n');
  const conf = join(dir, 'ca.cnf');
  await writeFile(conf, caConfig(dir));
  const valid = ['-days', '30'];
  const ca = await makeCa(dir, 'ca', 'wapt-get test CA');
  const clientCa = await makeCa(dir, 'client-ca', 'wapt-get test client CA');
  // Sequential: `openssl ca` serialises through index.txt and serial.
  const server = await makeLeaf(dir, conf, ca, 'server', 'localhost', 'v3_server', valid);
  const expired = await makeLeaf(dir, conf, ca, 'expired', 'localhost', 'v3_server', ['-startdate', '20200101000000Z', '-enddate', '20200201000000Z']);
  const wrongHost = await makeLeaf(dir, conf, ca, 'wronghost', 'other.example', 'v3_wronghost', valid);
  const client = await makeLeaf(dir, conf, clientCa, 'client', 'test-host', 'v3_client', valid);
  return {
    dir,
    caCert: ca[0],
    caKey: ca[1],
    serverCert: server[0],
    serverKey: server[1],
    expiredCert: expired[0],
    expiredKey: expired[1],
    wrongHostCert: wrongHost[0],
    wrongHostKey: wrongHost[1],
    clientCaCert: clientCa[0],
    clientCaKey: clientCa[1],
    clientCert: client[0],
    clientKey: client[1],
  };
}
