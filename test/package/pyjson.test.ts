// W-E2/W-E2b/W-D1: our JSON must be byte-identical to what WAPT signed. Proven by
// verifying the real signatures of the conformance packages with node:crypto.
import { createVerify, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { controlFromObject, field, parseControl } from '../../src/package/control.js';
import { manifestJson, pyJsonStringify, signedAttributesJson } from '../../src/package/pyjson.js';

const ROOT = join(process.cwd(), 'fixtures', 'conformance');
const SETS = ['wapt-made', 'wapt-made-py2'];

function unzipMember(zip: string, member: string): Buffer {
  return execFileSync('unzip', ['-p', zip, member]);
}

const certs = readdirSync(join(ROOT, 'wapt-made', 'keys'))
  .filter((f) => f.endsWith('.crt'))
  .map((f) => new X509Certificate(readFileSync(join(ROOT, 'wapt-made', 'keys', f))));

function signerOf(fields: Map<string, string>): X509Certificate {
  const fp = field(fields, 'signer_fingerprint');
  const cert = certs.find((c) => c.fingerprint256.replace(/:/g, '').toLowerCase() === fp);
  if (!cert) throw new Error(`no test certificate with fingerprint ${fp}`);
  return cert;
}

function verifies(blob: string, fields: Map<string, string>): boolean {
  const v = createVerify('RSA-SHA256');
  v.update(Buffer.from(blob, 'utf8'));
  return v.verify(signerOf(fields).publicKey, Buffer.from(field(fields, 'signature'), 'base64'));
}

const attrsOf = (f: Map<string, string>) => field(f, 'signed_attributes').split(',');

const packages = SETS.flatMap((set) =>
  readdirSync(join(ROOT, set, 'repo'))
    .filter((f) => f.endsWith('.wapt'))
    .map((f) => join(ROOT, set, 'repo', f)),
);
const indexEntries = SETS.flatMap((set) =>
  unzipMember(join(ROOT, set, 'repo', 'Packages'), 'Packages')
    .toString('utf8')
    .replace(/\n$/, '')
    .split('\n\n')
    .map((block, i) => [`${set}/Packages entry ${i + 1}`, block] as const),
);

describe('pyJsonStringify (W-E2b)', () => {
  test('escapes like Python json.dumps(sort_keys=True, separators=(",",":"))', () => {
    // Expected text produced by Python 3 json.dumps with those arguments.
    const value = { b: 'é\u007f/"\\\n\r\t\b\f\u0001\u001f', a: [1, null, true, false, '😀'], '\uffff': 1, '😀': 2, Z: '\u2028' };
    expect(pyJsonStringify(value)).toBe(
      '{"Z":"\\u2028","a":[1,null,true,false,"\\ud83d\\ude00"],"b":"\\u00e9\\u007f/\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f","\\uffff":1,"\\ud83d\\ude00":2}',
    );
  });
  test('keys are sorted by code point, at every depth', () => {
    expect(pyJsonStringify({ b: { y: 1, x: 2 }, a: [{ d: 1, c: 2 }], B: 0 })).toBe('{"B":0,"a":[{"c":2,"d":1}],"b":{"x":2,"y":1}}');
  });
  test('integers, bigints and null', () => {
    expect(pyJsonStringify([0, -5, 12345, 123456789012345678901234567890n, null, undefined])).toBe('[0,-5,12345,123456789012345678901234567890,null,null]');
  });
  test.each([
    ['a float', 1.5],
    ['NaN', NaN],
    ['a function', () => 1],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
  ])('bad input: %s is refused', (_t, v) => {
    expect(() => pyJsonStringify(v)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});

describe('signedAttributesJson (W-E2, W-C5)', () => {
  test('installed_size/size holding an integer become numbers; other values stay strings', () => {
    const f = controlFromObject({ package: 'a', installed_size: '0012', size: '12a', version: '1' });
    expect(signedAttributesJson(f, ['version', 'installed_size', 'size', 'package'])).toBe('{"installed_size":12,"package":"a","size":"12a","version":"1"}');
  });
  test('absent attributes: WAPT defaults for canonical ones, null for signature fields and unknown keys', () => {
    const f = controlFromObject({ package: 'a' });
    expect(signedAttributesJson(f, ['package', 'architecture', 'section', 'priority', 'maturity', 'signer', 'signature_date', 'x-custom'])).toBe(
      '{"architecture":"all","maturity":"","package":"a","priority":"optional","section":"base","signature_date":null,"signer":null,"x-custom":null}',
    );
  });
  test('a present but empty value stays "" (it is not replaced by a default)', () => {
    expect(signedAttributesJson(controlFromObject({ architecture: '' }), ['architecture'])).toBe('{"architecture":""}');
  });
  test('an attribute named __proto__ cannot alter the object', () => {
    expect(signedAttributesJson(controlFromObject({ __proto__x: '1' }), ['__proto__'])).toBe('{"__proto__":null}');
  });

  test.each(packages.map((p) => [basename(p), p]))('conformance %s: the WAPT/control signature verifies over our JSON', (_n, file) => {
    const fields = parseControl(unzipMember(file, 'WAPT/control').toString('utf8'));
    const blob = signedAttributesJson(fields, attrsOf(fields));
    expect(verifies(blob, fields)).toBe(true);
    // the check is real: one changed attribute breaks it
    const tampered = new Map(fields).set('depends', field(fields, 'depends') + ',tis-evil');
    expect(verifies(signedAttributesJson(tampered, attrsOf(tampered)), fields)).toBe(false);
  });

  test.each(indexEntries)('conformance %s: the index entry signature verifies', (_n, block) => {
    const fields = parseControl(block);
    expect(verifies(signedAttributesJson(fields, attrsOf(fields)), fields)).toBe(true);
  });

  test('tis-py2hello: installed_size is signed as a number and the accents are escaped', () => {
    const file = packages.find((p) => basename(p).startsWith('tis-py2hello_'))!;
    const fields = parseControl(unzipMember(file, 'WAPT/control').toString('utf8'));
    const blob = signedAttributesJson(fields, attrsOf(fields));
    expect(blob).toContain('"installed_size":12345,');
    expect(blob).toContain('"description":"Paquet de test \\u00e9t\\u00e9\\nDeuxi\\u00e8me ligne"');
    // the string form would not verify: WAPT signed the number
    const asString = blob.replace('"installed_size":12345', '"installed_size":"12345"');
    const v = createVerify('RSA-SHA256').update(asString);
    expect(v.verify(signerOf(fields).publicKey, Buffer.from(field(fields, 'signature'), 'base64'))).toBe(false);
  });
});

describe('manifestJson (W-D1)', () => {
  test.each(packages.map((p) => [basename(p), p]))('conformance %s: re-serialising the manifest gives the same bytes', (_n, file) => {
    const bytes = unzipMember(file, 'WAPT/manifest.sha256');
    const pairs = JSON.parse(bytes.toString('utf8')) as [string, string][];
    expect(Buffer.from(manifestJson(pairs), 'utf8').equals(bytes)).toBe(true);
  });
  test('non-ASCII paths are escaped as WAPT does', () => {
    expect(manifestJson([['données/été.txt', 'ab']])).toBe('[["donn\\u00e9es/\\u00e9t\\u00e9.txt","ab"]]');
  });
  test('the manifest signature of each conformance package verifies over those bytes', () => {
    for (const file of packages) {
      const fields = parseControl(unzipMember(file, 'WAPT/control').toString('utf8'));
      const manifest = manifestJson(JSON.parse(unzipMember(file, 'WAPT/manifest.sha256').toString('utf8')));
      const sig = Buffer.from(unzipMember(file, 'WAPT/signature.sha256').toString('ascii'), 'base64');
      expect(createVerify('RSA-SHA256').update(manifest).verify(signerOf(fields).publicKey, sig)).toBe(true);
    }
  });
});
