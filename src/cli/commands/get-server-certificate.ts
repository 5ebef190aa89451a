// `wapt-get get-server-certificate [URL]`: fetch the certificate a server presents (not
// trusting it), print its SHA-256 fingerprint and subject for an out-of-band check, and
// keep it under ssl/server/. Pinning it is a separate, conscious step: enable-check-certificate.
import type { CommandSpec } from '../command.js';
import { atomicWriteFile } from '../../atomic-file.js';
import { serverCertPath, serverUrlFor } from '../server-certificate.js';

export const command: CommandSpec = {
  name: 'get-server-certificate',
  summary: "fetch a server's TLS certificate, print its fingerprint and save it under ssl/server/",
  args: ['[url]'],
  options: [{ flags: '--dry-run', description: 'print the certificate; save nothing' }],
  help: 'URL defaults to wapt_server, else the first repo_url. Compare the fingerprint with the one the server admin gives you,\nthen run `wapt-get enable-check-certificate --fingerprint HEX`.',
  async run(ctx, [url], opts) {
    const { fetchPeerCertificate } = await import('../../repo/index.js');
    const { certificateToPem, commonName } = await import('../../crypto/index.js');
    const target = await serverUrlFor(ctx, url as string | undefined);
    const info = await fetchPeerCertificate(target);
    const leaf = info.chain[0]!;
    const path = await serverCertPath(ctx, info.host, info.port);
    if (!opts.dryRun) await atomicWriteFile(path, certificateToPem(leaf), { defaultMode: 0o644 });
    const data = {
      url: target,
      fingerprint: info.fingerprint,
      subject: leaf.subject.replace(/\n/g, ', '),
      issuer: leaf.issuer.replace(/\n/g, ', '),
      common_name: commonName(leaf),
      not_after: new Date(leaf.validTo).toISOString(),
      saved: opts.dryRun ? null : path,
    };
    ctx.out.result(data, () => [
      `${target}`,
      `  subject     ${data.subject}`,
      `  issuer      ${data.issuer}`,
      `  valid until ${data.not_after}`,
      `  sha256      ${info.fingerprint}`,
      ...(data.saved ? [`saved to ${data.saved}; check the fingerprint, then: wapt-get enable-check-certificate --fingerprint ${info.fingerprint}`] : []),
    ]);
  },
};
