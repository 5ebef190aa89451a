// The demo's fleet part: serve with a data dir and an admin token, an enrolment token,
// `register`, the automatic report after install, the admin API, and a signed action that
// `wapt-get agent` picks up and runs.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';

export const DEMO_HOST_UUID = 'DE30C0DE-0000-4000-8000-000000000001';

export interface Fleet {
  dataDir: string;
  adminToken: string;
  serveArgs: string[];
}

export async function fleetSetup(work: string): Promise<Fleet> {
  const adminToken = randomBytes(18).toString('base64url');
  const admins = join(work, 'etc', 'admins.txt');
  await writeFile(admins, `demo-admin operate ${createHash('sha256').update(adminToken).digest('hex')}\n`, { mode: 0o600 });
  const dataDir = join(work, 'serve-data');
  return { dataDir, adminToken, serveArgs: ['--data-dir', dataDir, '--admin-tokens-file', admins] };
}

/** Runs wapt-get and returns its stdout (stderr passes through). */
export function capture(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  process.stdout.write(`$ wapt-get ${args.join(' ')}\n`);
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => (code === 0 ? res(out) : rej(new Error(`wapt-get ${args[0]} exited with ${code}`))));
  });
}

export function adminCall(url: string, caPath: string, token: string, method: string, path: string, body?: string): Promise<unknown> {
  return readFile(caPath).then(
    (ca) =>
      new Promise((res, rej) => {
        const u = new URL(path, url);
        const req = request(
          {
            host: u.hostname,
            port: u.port,
            path: u.pathname + u.search,
            method,
            ca,
            headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          },
          (r) => {
            const chunks: Buffer[] = [];
            r.on('data', (c: Buffer) => chunks.push(c));
            r.on('end', () => res(JSON.parse(Buffer.concat(chunks).toString() || 'null')));
          },
        );
        req.on('error', rej);
        req.end(body);
      }),
  );
}

/** An enrolment token, then `register` with it. */
export async function enrolHost(bin: string, c: string[], fleet: Fleet): Promise<void> {
  const made = JSON.parse(
    await capture(bin, ['--json', 'serve-admin', 'enroll-token', '--data-dir', fleet.dataDir, '--uses', '1', '--expires', '1h', '--label', 'demo']),
  );
  process.stdout.write(`enrolment token ${String(made.token).slice(0, 8)}… (shown once; only its hash is kept)\n`);
  process.stdout.write(await capture(bin, [...c, 'register', 'demo workstation'], { WAPT_GET_REGISTRATION_TOKEN: made.token }));
}

export async function showHosts(url: string, caPath: string, fleet: Fleet): Promise<void> {
  process.stdout.write(`$ curl -H "Authorization: Bearer …" ${url}api/v1/hosts\n`);
  const r = (await adminCall(url, caPath, fleet.adminToken, 'GET', '/api/v1/hosts')) as {
    hosts: { hostname: string; host_uuid: string; state: string; counts: Record<string, number>; last_seen: string }[];
  };
  for (const h of r.hosts) process.stdout.write(`  ${h.hostname} ${h.host_uuid} ${h.state} packages ${JSON.stringify(h.counts)} last seen ${h.last_seen}\n`);
}

/** The admin signs `remove NAME` for the host; serve queues it; the agent long-polls and runs it. */
export async function signedAction(
  bin: string,
  c: string[],
  url: string,
  caPath: string,
  fleet: Fleet,
  signer: { key: string; cert: string },
  name: string,
): Promise<void> {
  const action = await capture(bin, [
    'action',
    'sign',
    '--host',
    DEMO_HOST_UUID,
    '--key',
    signer.key,
    '--cert',
    signer.cert,
    '--window',
    '300',
    'remove',
    name,
  ]);
  process.stdout.write(`$ curl -H "Authorization: Bearer …" --data-binary @action.json ${url}api/v1/actions\n`);
  process.stdout.write(`  ${JSON.stringify(await adminCall(url, caPath, fleet.adminToken, 'POST', '/api/v1/actions', action))}\n`);
  process.stdout.write(await capture(bin, [...c, 'agent', '--polls', '1', '--wait', '2']));
  const list = (await adminCall(url, caPath, fleet.adminToken, 'GET', '/api/v1/actions')) as {
    actions: { id: string; action: { action: string; args: string[] }; outcome: unknown }[];
  };
  for (const a of list.actions) process.stdout.write(`  action ${a.id}: ${a.action.action} ${a.action.args.join(' ')} → ${JSON.stringify(a.outcome)}\n`);
}
