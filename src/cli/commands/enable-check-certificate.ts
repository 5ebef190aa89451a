// `wapt-get enable-check-certificate [URL] --fingerprint HEX`: pin the server's certificate
// in wapt-get.ini (verify_cert = ssl/server/<host>.crt). Trust on first use must be a
// conscious step: the fingerprint comes out of band (--fingerprint), or the admin types
// "yes" at a terminal after reading it. A wrong fingerprint leaves the ini unchanged.
import { relative, dirname } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { WaptError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { atomicWriteFile } from '../../atomic-file.js';
import { configOf } from '../context.js';
import { setConfigValue } from '../ini-file.js';
import { serverCertPath, serverUrlFor } from '../server-certificate.js';

async function confirmAtTerminal(question: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

export const command: CommandSpec = {
  name: 'enable-check-certificate',
  summary: "pin the server's TLS certificate in wapt-get.ini after its fingerprint is confirmed",
  args: ['[url]'],
  options: [
    { flags: '--fingerprint <sha256>', description: 'the SHA-256 fingerprint given out of band by the server admin (hex, colons allowed)' },
    { flags: '--section <name>', description: 'ini section to set verify_cert in', default: 'global' },
    { flags: '--dry-run', description: 'check the fingerprint and say what would be written; change nothing' },
  ],
  async run(ctx, [url], opts) {
    const { fetchPeerCertificate, normalizeFingerprint } = await import('../../repo/index.js');
    const { certificateToPem } = await import('../../crypto/index.js');
    const target = await serverUrlFor(ctx, url as string | undefined);
    const info = await fetchPeerCertificate(target);
    if (opts.fingerprint) {
      const want = normalizeFingerprint(opts.fingerprint as string);
      if (want !== info.fingerprint) {
        throw new WaptError('FINGERPRINT_MISMATCH', `${target} presents sha256 ${info.fingerprint}, not the ${want} you gave; nothing was changed`, {
          detail: { url: target, presented: info.fingerprint, expected: want },
        });
      }
    } else if (
      !(await confirmAtTerminal(`${target} presents sha256 ${info.fingerprint}\nType "yes" if this is the fingerprint your server admin gave you: `))
    ) {
      throw new WaptError('USAGE', 'the fingerprint was not confirmed: pass --fingerprint HEX (from the server admin), or answer "yes" at a terminal');
    }
    const path = await serverCertPath(ctx, info.host, info.port);
    const cfg = await configOf(ctx);
    const value = relative(dirname(cfg.configPath), path);
    if (opts.dryRun) {
      ctx.out.result(
        { dry_run: true, url: target, fingerprint: info.fingerprint, verify_cert: value },
        () => `would set verify_cert = ${value} in [${opts.section as string}]`,
      );
      return;
    }
    await atomicWriteFile(path, certificateToPem(info.chain[0]!), { defaultMode: 0o644 });
    const r = await setConfigValue(ctx, opts.section as string, 'verify_cert', value);
    ctx.out.result(
      { url: target, fingerprint: info.fingerprint, verify_cert: value, previous: r.before, config: r.path },
      () =>
        `verify_cert = ${value} in [${opts.section as string}] of ${r.path} (was ${r.before ?? 'unset'}): ${target} is pinned to sha256 ${info.fingerprint}`,
    );
  },
};
