#!/usr/bin/env python3
"""An independent .wapt verifier following WAPT's algorithm (waptpackage.py /
waptcrypto.py as wapt-source-notes.md describes them), written without any of
wapt-get's code: Python 3 standard library + the `openssl` command line.

Usage: wapt_verify.py --trusted DIR PACKAGE...
Prints `OK <file> signer=<CN>` or `FAIL <file>: <reason>` per package;
exit status 0 when all verify, 1 otherwise.
"""
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

REQUIRED = ['package', 'version', 'architecture', 'section', 'priority']
OPTIONAL = ['name', 'categories', 'maintainer', 'description', 'depends', 'conflicts', 'maturity', 'locale',
            'target_os', 'min_os_version', 'max_os_version', 'min_wapt_version', 'sources', 'installed_size',
            'impacted_process', 'description_fr', 'description_pl', 'description_de', 'description_es',
            'description_pt', 'description_it', 'description_nl', 'description_ru', 'audit_schedule', 'editor',
            'keywords', 'licence', 'homepage', 'package_uuid', 'valid_from', 'valid_until', 'forced_install_on',
            'changelog']
SIGNATURE_FIELDS = ['signer', 'signer_fingerprint', 'signature', 'signature_date', 'signed_attributes']
CANONICAL = REQUIRED + OPTIONAL + SIGNATURE_FIELDS
DEFAULTS = {'architecture': 'all', 'section': 'base', 'priority': 'optional'}
LEGACY_SIGNED = ['package', 'version', 'architecture', 'section', 'priority', 'depends', 'conflicts', 'maturity']
EXCLUDED = {'WAPT/manifest.sha256', 'WAPT/signature.sha256', 'WAPT/manifest.sha1', 'WAPT/signature'}
CODE_SIGNING_OID = '1.3.6.1.5.5.7.3.3'
INT_RE = re.compile(r'^[+-]?[0-9]+$')
PEM_RE = re.compile(r'-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----', re.S)


class Reject(Exception):
    pass


def parse_control(text):
    """WAPT's control_to_dict: unicode.splitlines(), stop at the first blank line,
    ' ' continues a value, key before the first ':' lowercased, last duplicate wins,
    installed_size/size as int when they hold an integer."""
    fields = {}
    key = None
    for line in text.splitlines():
        if line.strip() == '':
            break
        if line.startswith(' '):
            if key is None:
                raise Reject('continuation line before any field')
            fields[key] = '%s\n%s' % (fields[key], line.strip())
            continue
        if ':' not in line:
            raise Reject('Invalid line (no ":"): %r' % line[:60])
        k, v = line.split(':', 1)
        key = k.strip().lower()
        fields[key] = v.strip()
    for k in ('installed_size', 'size'):
        if k in fields and isinstance(fields[k], str) and INT_RE.match(fields[k]):
            fields[k] = int(fields[k])
    return fields


def signed_blob(fields):
    attrs = [a.strip() for a in str(fields.get('signed_attributes') or '').split(',') if a.strip()]
    if not attrs and str(fields.get('signature_date') or '') < '20170609':
        attrs = LEGACY_SIGNED
    if not attrs:
        raise Reject('control has no signed_attributes')
    obj = {}
    for a in attrs:
        if a in fields:
            obj[a] = fields[a]
        elif a in SIGNATURE_FIELDS or a not in CANONICAL:
            obj[a] = None
        else:
            obj[a] = DEFAULTS.get(a, '')
    # Python's own serialiser: sorted keys, compact separators, ensure_ascii (default).
    return json.dumps(obj, sort_keys=True, separators=(',', ':')).encode('ascii')


def openssl(args, data=None):
    r = subprocess.run(['openssl'] + args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return r.returncode, r.stdout.decode('utf-8', 'replace'), r.stderr.decode('utf-8', 'replace')


def der_of(pem):
    body = ''.join(l for l in pem.splitlines() if not l.startswith('-----'))
    return base64.b64decode(body)


def rsa_verify(tmp, cert_pem, data, signature):
    paths = {n: os.path.join(tmp, n) for n in ('cert.pem', 'pub.pem', 'data.bin', 'sig.bin')}
    with open(paths['cert.pem'], 'w') as f:
        f.write(cert_pem + '\n')
    rc, out, err = openssl(['x509', '-pubkey', '-noout', '-in', paths['cert.pem']])
    if rc != 0:
        raise Reject('cannot read certificate: ' + err.strip())
    with open(paths['pub.pem'], 'w') as f:
        f.write(out)
    with open(paths['data.bin'], 'wb') as f:
        f.write(data)
    with open(paths['sig.bin'], 'wb') as f:
        f.write(signature)
    rc, _, _ = openssl(['dgst', '-sha256', '-verify', paths['pub.pem'], '-signature', paths['sig.bin'], paths['data.bin']])
    return rc == 0


def cert_text(tmp, cert_pem):
    p = os.path.join(tmp, 'show.pem')
    with open(p, 'w') as f:
        f.write(cert_pem + '\n')
    rc, out, err = openssl(['x509', '-noout', '-text', '-subject', '-nameopt', 'RFC2253,-esc_msb', '-in', p])
    if rc != 0:
        raise Reject('cannot read certificate: ' + err.strip())
    return out


def common_name(text):
    m = re.search(r'^subject=.*?CN=([^,\n]+)', text, re.M)
    return m.group(1) if m else '?'


def check_chain(tmp, signer_pem, intermediates, trusted_dir):
    bundle = os.path.join(tmp, 'trusted.pem')
    certs = []
    for name in sorted(os.listdir(trusted_dir)):
        if name.lower().endswith(('.crt', '.pem')):
            with open(os.path.join(trusted_dir, name), 'r', encoding='latin-1') as f:
                certs += PEM_RE.findall(f.read())
    if not certs:
        raise Reject('untrusted signer: the trusted directory holds no certificate')
    with open(bundle, 'w') as f:
        f.write('\n'.join(certs) + '\n')
    signer = os.path.join(tmp, 'signer.pem')
    with open(signer, 'w') as f:
        f.write(signer_pem + '\n')
    args = ['verify', '-CAfile', bundle]
    if intermediates:
        inter = os.path.join(tmp, 'inter.pem')
        with open(inter, 'w') as f:
            f.write('\n'.join(intermediates) + '\n')
        args += ['-untrusted', inter]
    rc, out, err = openssl(args + [signer])
    if rc != 0:
        raise Reject('untrusted signer: ' + (err or out).strip().splitlines()[-1])


def verify(path, trusted_dir):
    with zipfile.ZipFile(path) as z, tempfile.TemporaryDirectory() as tmp:
        names = [i.filename for i in z.infolist() if not i.filename.endswith('/')]
        for required in ('WAPT/control', 'WAPT/certificate.crt', 'WAPT/manifest.sha256', 'WAPT/signature.sha256'):
            if required not in names:
                raise Reject('missing ' + required)
        if len(set(names)) != len(names):
            raise Reject('duplicate member names')
        fields = parse_control(z.read('WAPT/control').decode('utf-8'))
        pems = PEM_RE.findall(z.read('WAPT/certificate.crt').decode('latin-1'))
        if not pems:
            raise Reject('WAPT/certificate.crt holds no certificate')
        signer_pem = pems[0]

        # 1. Manifest signature with the first certificate (W-D2/W-D3).
        manifest_bytes = z.read('WAPT/manifest.sha256')
        sig = base64.b64decode(re.sub(rb'\s+', b'', z.read('WAPT/signature.sha256')))
        if not rsa_verify(tmp, signer_pem, manifest_bytes, sig):
            raise Reject('manifest signature does not verify')

        # 2. Chain of the signer to the trusted directory (W-D4).
        check_chain(tmp, signer_pem, pems[1:], trusted_dir)

        # 3. Control signature (W-E2/W-E3) with the certificate named by signer_fingerprint.
        wanted = str(fields.get('signer_fingerprint') or '').lower()
        candidates = [p for p in pems if not wanted or hashlib.sha256(der_of(p)).hexdigest() == wanted]
        if not candidates:
            raise Reject('no certificate matches signer_fingerprint')
        if not fields.get('signature'):
            raise Reject('control is not signed')
        control_sig = base64.b64decode(fields['signature'])
        blob = signed_blob(fields)
        if not any(rsa_verify(tmp, p, blob, control_sig) for p in candidates):
            raise Reject('control signature does not verify')

        # 4. Code-signing rule (W-D5): setup code needs the codeSigning EKU.
        text = cert_text(tmp, signer_pem)
        if ('setup.py' in names or 'setup.mjs' in names) and 'Code Signing' not in text and CODE_SIGNING_OID not in text:
            raise Reject('setup code signed by a certificate without code signing')

        # 5. Every member hashed as listed, every member listed (W-D1/W-D3).
        manifest = json.loads(manifest_bytes.decode('utf-8'))
        listed = {}
        for pair in manifest:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise Reject('malformed manifest entry')
            listed[pair[0]] = pair[1].lower()
        for name, digest in listed.items():
            if name not in names:
                raise Reject('manifest lists a missing member: ' + name)
            if hashlib.sha256(z.read(name)).hexdigest() != digest:
                raise Reject('member does not match the manifest: ' + name)
        for name in names:
            if name not in EXCLUDED and name not in listed:
                raise Reject('member not in the manifest: ' + name)
        return common_name(text)


def main(argv):
    if len(argv) < 3 or argv[0] != '--trusted':
        sys.stderr.write(__doc__)
        return 2
    trusted = argv[1]
    failed = 0
    for path in argv[2:]:
        try:
            cn = verify(path, trusted)
            print('OK %s signer=%s' % (path, cn))
        except (Reject, zipfile.BadZipFile, ValueError, KeyError) as e:
            failed += 1
            print('FAIL %s: %s' % (path, e))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
