// `npm run demo`: the whole job on loopback, with the real binary, step by step.
// Makes a throw-away CA and code-signing key, builds and verifies the sample
// packages, indexes them with a signed statement, serves them over HTTPS, and
// runs update / search / show / install / upgrade / remove in a sandbox root.
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEMO_HOST_UUID, enrolHost, fleetSetup, showHosts, signedAction } from './fleet.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'wapt-get');
const samples = join(root, 'fixtures', 'samples');

function banner(text: string): void {
  process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);
}

/** Runs one wapt-get command, echoing it and its output; stops the demo on failure. */
function run(args: string[], env: NodeJS.ProcessEnv = {}, okCodes = [0]): Promise<number> {
  process.stdout.write(`$ wapt-get ${args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n`);
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('error', rej);
    child.on('exit', (code) => {
      if (okCodes.includes(code ?? -1)) res(code ?? 0);
      else rej(new Error(`wapt-get ${args[0]} exited with ${code}`));
    });
  });
}

/** Starts `wapt-get serve` on a free port and resolves with its URL once it listens. */
function startServer(repo: string, tlsDir: string, extra: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [bin, 'serve', '--repo', repo, '--port', '0', '--tls-dir', tlsDir, ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = createInterface({ input: child.stdout! });
    const errLines = createInterface({ input: child.stderr! });
    errLines.on('line', (l) => {
      if (!/ GET | HEAD /.test(l)) process.stdout.write(`  [serve] ${l}\n`);
    });
    lines.on('line', (l) => {
      process.stdout.write(`  [serve] ${l}\n`);
      const m = /listening on (https:\/\/\S+)/.exec(l);
      if (m) res({ url: m[1]!, child });
    });
    child.on('exit', (code) => rej(new Error(`serve exited early with ${code}`)));
  });
}

/** Lists the files the hooks deployed under the sandbox root (what a real install puts under /). */
async function showSandbox(sandbox: string): Promise<void> {
  const files = (await readdir(sandbox, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => relative(sandbox, join(e.parentPath ?? e.path, e.name)))
    .sort();
  process.stdout.write(`files under the sandbox root: ${files.length ? '\n  /' + files.join('\n  /') : '(none)'}\n`);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'wapt-get-demo-'));
  const pki = join(work, 'pki');
  const built = join(work, 'repo');
  const conf = join(work, 'etc');
  const sandbox = join(work, 'sandbox-root');
  await Promise.all([pki, built, conf, sandbox].map((d) => mkdir(d, { recursive: true })));
  const ca = { cert: join(pki, 'demo-ca.crt'), key: join(pki, 'demo-ca.pem') };
  const signer = { cert: join(pki, 'demo-packager.crt'), key: join(pki, 'demo-packager.pem') };
  process.stdout.write(`wapt-get demo in ${work}\n`);

  banner('1. a throw-away CA and a code-signing key (unencrypted: demo only)');
  await run(['create-ca', '--cn', 'demo-ca', '--out-dir', pki, '--no-password']);
  await run(['create-keycert', '--cn', 'demo-packager', '--codesigning', '--out-dir', pki, '--ca-cert', ca.cert, '--ca-key', ca.key, '--no-password']);
  const sign = ['--key', signer.key, '--cert', signer.cert];

  banner('2. build and sign the sample packages (first release only)');
  await run(['build-package', join(samples, 'demo-hello-1.0'), join(samples, 'demo-tools'), join(samples, 'demo-desktop'), '-o', built, ...sign]);
  await mkdir(join(conf, 'ssl'), { recursive: true });
  await cp(ca.cert, join(conf, 'ssl', 'demo-ca.crt'));
  const wapts = (await readdir(built)).filter((f) => f.endsWith('.wapt')).map((f) => join(built, f));
  await run(['verify', '--trusted', join(conf, 'ssl'), ...wapts]);

  banner('3. index the repository with a signed, expiring statement');
  await run(['scanpackages', built, '--trusted', join(conf, 'ssl'), '--sign', ...sign, '--expires', '7d']);

  banner('4. serve it over HTTPS on loopback (self-signed, pinned by the client)');
  const tlsDir = join(work, 'serve-tls');
  const fleet = await fleetSetup(work); // Fleet: serve also takes signed reports; admins need a token
  const server = await startServer(built, tlsDir, fleet.serveArgs);
  try {
    const ini = [
      '[global]',
      `repo_url = ${server.url.replace(/\/$/, '')}`,
      `verify_cert = ${join(tlsDir, 'server.crt')}`,
      `dbdir = ${join(work, 'db')}`,
      `trusted_certs_dir = ${join(conf, 'ssl')}`,
      `user_mode_root = ${sandbox}`,
      `wapt_server = ${server.url.replace(/\/$/, '')}`,
      `host_uuid = ${DEMO_HOST_UUID}`,
      'report_jitter = 0',
      `action_signers_dir = ${join(conf, 'ssl')}`,
      '',
    ].join('\n');
    const iniPath = join(conf, 'wapt-get.ini');
    await writeFile(iniPath, ini);
    process.stdout.write(`wrote ${iniPath}:\n${ini}`);
    const c = ['--config', iniPath];

    banner('5. register this host with an enrolment token (F1A)');
    await enrolHost(bin, c, fleet);

    banner('6. update, search, show');
    await run([...c, 'update']);
    await run([...c, 'update']);
    await run([...c, 'search', 'demo']);
    await run([...c, 'show', 'demo-desktop']);

    banner('7. install the group: its dependencies come along (and a signed report goes to serve)');
    await run([...c, 'install', 'demo-desktop']);
    await run([...c, 'list']);
    await showSandbox(sandbox);
    await showHosts(server.url, join(tlsDir, 'server.crt'), fleet);

    banner('8. publish demo-hello 1.1, re-index, upgrade');
    await run(['build-package', join(samples, 'demo-hello-1.1'), '-o', built, ...sign]);
    await run(['scanpackages', built, '--trusted', join(conf, 'ssl'), '--sign', ...sign]);
    await run([...c, 'update']);
    await run([...c, 'check-upgrades'], {}, [0, 100]);
    await run([...c, 'upgrade']);
    await run([...c, 'list']);
    await showSandbox(sandbox);

    banner('9. a signed action: the admin signs `remove demo-desktop`, serve queues it, the agent runs it');
    await signedAction(bin, c, server.url, join(tlsDir, 'server.crt'), fleet, signer, 'demo-desktop');

    banner('10. remove everything again');
    await run([...c, 'remove', 'demo-hello', 'demo-tools']);
    await run([...c, 'list']);
    await showSandbox(sandbox);
  } finally {
    server.child.removeAllListeners('exit');
    server.child.kill('SIGTERM');
  }
  banner(`done: everything above ran against ${work}`);
}

main().catch((err: Error) => {
  process.stderr.write(`demo failed: ${err.message}\n`);
  process.exit(1);
});
