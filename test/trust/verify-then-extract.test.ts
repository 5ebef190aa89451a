// Issue 8 §5 (STYLE 13, check the bytes you use): what is extracted and run is what was
// verified. The real attack, as root against the real binary: a local unprivileged user
// (`runuser -u nobody`) swaps the package file for one with an unsigned setup.mjs right
// after root has read it (inotify IN_CLOSE_NOWRITE, after the 1st, 2nd, 3rd… close), and
// for downloads swaps the cache directory under a parent it owns, in a tight loop. Root
// must never run the unsigned setup.mjs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { makeAgentEnv, type AgentEnv } from '../helpers/agent-env.js';
import { rewriteZip } from '../helpers/packages.js';

const NOBODY = 65534;
let env: AgentEnv;
const attackDirs: string[] = [];

/** A fresh directory in /tmp owned by nobody (the attacker's own). */
function attackerDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chownSync(d, NOBODY, NOBODY);
  chmodSync(d, 0o755);
  attackDirs.push(d);
  return d;
}

function asNobody(script: string, args: string[]): ChildProcess {
  // its own process group, so that stop() ends runuser and the python under it together
  return spawn('runuser', ['-u', 'nobody', '--', '/usr/bin/python3', '-c', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
}

/** Resolves with the first stdout line (the watcher says "ready" once its watch is set). */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
    });
    child.on('exit', (code) => reject(new Error(`attacker exited (${code}) before it was ready: ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* ESRCH: the group is gone */
    }
    return;
  }
  const gone = new Promise((r) => child.on('exit', r));
  process.kill(-child.pid!, 'SIGKILL');
  await gone;
}

// The attacker: wait for root to close the package file `count` times, then rename the evil zip over it.
const SWAP_AFTER_CLOSES = `
import ctypes, os, struct, sys
path, evil, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
libc = ctypes.CDLL('libc.so.6', use_errno=True)
fd = libc.inotify_init()
if fd < 0 or libc.inotify_add_watch(fd, path.encode(), 0x10) < 0:  # IN_CLOSE_NOWRITE
    sys.exit('inotify: errno %d' % ctypes.get_errno())
print('ready', flush=True)
seen = 0
while True:
    buf = os.read(fd, 65536)
    i = 0
    while i < len(buf):
        _wd, mask, _cookie, n = struct.unpack_from('iIII', buf, i)
        i += 16 + n
        if mask & 0x10:
            seen += 1
            if seen == count:
                os.rename(evil, path)
                print('swapped after close %d' % seen, flush=True)
                sys.exit(0)
`;

// The attacker, for downloads: swap the real cache directory and a fake one (same file names, evil content) as fast as it can.
const SWAP_CACHE_DIRS = `
import os, sys, time
parent = sys.argv[1]
cache, real, fake = (os.path.join(parent, n) for n in ('cache', 'cache.real', 'fake'))
print('ready', flush=True)
while True:
    for a, b in ((cache, real), (fake, cache), (cache, fake), (real, cache)):
        try:
            os.rename(a, b)
        except OSError:
            pass
    time.sleep(0.0002)
`;

const goodSetup = (tag: string) =>
  `import { writeFile } from 'node:fs/promises';\nexport async function install(h) { await writeFile(h.targetPath('good-${tag}.txt'), 'signed code ran'); }\n`;
const EVIL_SETUP = `import { writeFileSync } from 'node:fs';\nexport async function install(h) { writeFileSync(h.targetPath('pwned.txt'), 'unsigned code ran as ' + process.getuid()); }\n`;

beforeAll(async () => {
  if (process.getuid!() !== 0) throw new Error(`this attack needs root (runuser -u nobody); running as uid ${process.getuid!()}`);
  if (spawnSync('runuser', ['-u', 'nobody', '--', '/usr/bin/python3', '-c', 'print(1)']).status !== 0) throw new Error('cannot run python3 as nobody');
  env = await makeAgentEnv();
}, 120_000);

afterAll(async () => {
  await env?.stop();
  for (const d of attackDirs) rmSync(d, { recursive: true, force: true });
});

describe('install ./x.wapt: a local user swaps the file after root verified it', () => {
  // Before the fix the file was opened 3 times (verify for the plan, verify for the step, extract):
  // a swap after the 2nd close ran the unsigned setup.mjs as root. Every count is tried.
  test.each([1, 2, 3, 4])('swap after close #%i (3 rounds): root never runs the unsigned setup.mjs', async (count) => {
    const tag = `local${count}`;
    const [built] = await env.publish({ name: `tis-race-${tag}`, version: '1.0-1', setup: goodSetup(tag) });
    const pwned = join(env.userRoot, 'pwned.txt');
    rmSync(pwned, { force: true });
    for (let round = 0; round < 3; round++) {
      const dir = attackerDir('wapt-race-local-');
      const pkg = join(dir, basename(built!));
      const evil = join(dir, '.evil.wapt');
      copyFileSync(built!, pkg);
      await rewriteZip(built!, evil, { replace: { 'setup.mjs': EVIL_SETUP } });
      for (const f of [pkg, evil]) chownSync(f, NOBODY, NOBODY);
      const good = join(env.userRoot, `good-${tag}.txt`);
      rmSync(good, { force: true });
      const attacker = asNobody(SWAP_AFTER_CLOSES, [pkg, evil, String(count)]);
      try {
        expect(await firstLine(attacker)).toBe('ready');
        const r = await env.run(['install', '--force', pkg]);
        expect(existsSync(pwned)).toBe(false);
        // what root installed is the signed package it copied before any swap
        expect(r.stderr).not.toMatch(/error/i);
        expect(r.code).toBe(0);
        expect(existsSync(good)).toBe(true);
      } finally {
        await stop(attacker);
      }
    }
  });

  test('genuine: the person’s file is left where it was, and no private copy is left behind (nor one a killed run left)', async () => {
    const [built] = await env.publish({ name: 'tis-race-genuine', version: '1.0-1', setup: goodSetup('genuine') });
    const stage = join(env.cacheDir, '.local');
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!; // has exited: its pid is free
    mkdirSync(join(stage, `${dead}-left`), { recursive: true, mode: 0o700 });
    writeFileSync(join(stage, `${dead}-left`, 'copy.wapt'), 'left by a killed run');
    const r = await env.run(['install', built!]);
    expect(r.code).toBe(0);
    expect(existsSync(built!)).toBe(true);
    expect(spawnSync('find', [stage, '-type', 'f'], { encoding: 'utf8' }).stdout).toBe('');
  });
});

describe('downloaded packages: a local user swaps the cache directory under a parent it owns', () => {
  test('racing directory swaps during 5 installs: root never runs the unsigned setup.mjs', async () => {
    rmSync(join(env.userRoot, 'pwned.txt'), { force: true });
    const parent = attackerDir('wapt-race-cache-');
    const cache = join(parent, 'cache');
    await env.configure({ cachedir: cache });
    try {
      for (let i = 0; i < 5; i++) {
        const tag = `dl${i}`;
        const [built] = await env.publish({ name: `tis-race-${tag}`, version: '1.0-1', setup: goodSetup(tag) });
        expect((await env.run(['update'])).code).toBe(0);
        const fake = join(parent, 'fake');
        rmSync(fake, { recursive: true, force: true });
        mkdirSync(fake);
        await rewriteZip(built!, join(fake, basename(built!)), { replace: { 'setup.mjs': EVIL_SETUP } });
        writeFileSync(join(fake, 'marker'), 'the attacker planted this directory');
        spawnSync('chown', ['-R', 'nobody:nogroup', fake]);
        const attacker = asNobody(SWAP_CACHE_DIRS, [parent]);
        try {
          expect(await firstLine(attacker)).toBe('ready');
          await env.run(['install', `tis-race-${tag}`]);
        } finally {
          await stop(attacker);
        }
        // put the real cache back where it belongs for the next round
        if (existsSync(join(cache, 'marker'))) spawnSync('mv', [cache, join(parent, 'fake-used')]);
        if (!existsSync(cache) && existsSync(join(parent, 'cache.real'))) spawnSync('mv', [join(parent, 'cache.real'), cache]);
        rmSync(join(parent, 'fake-used'), { recursive: true, force: true });
        expect(existsSync(join(env.userRoot, 'pwned.txt'))).toBe(false);
      }
    } finally {
      await env.configure();
    }
  }, 180_000);
});
