// The Helpers object handed to every hook (runs inside the child process, so it
// imports nothing of wapt-get beyond this directory). Errors are plain Errors:
// the runner turns whatever the hook throws into ERR_HOOK_FAILED.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { HookContext, Helpers, RunOptions, RunResult } from './api.js';
import { confine, relPosix } from './paths.js';
import { Tail } from './tail.js';
import { createWindowsHelpers } from './windows/index.js';
import { downloadInto } from './download.js';

const RUN_CAPTURE = 1 << 20;
const STDERR_TAIL = 2000;

/** First executable named `cmd` on PATH, or undefined. */
export function which(cmd: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const full = path.join(dir, cmd);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Internal to the helpers: Windows command lines passed as already-quoted words; any exit code resolves. */
interface RunInternals {
  cwd: string;
  windowsVerbatim?: boolean;
  anyExitCode?: boolean;
}

export function runCommand(cmd: string, args: string[], opts: RunOptions & RunInternals): Promise<RunResult> {
  const accept = opts.accept ?? [0];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
      // Verbatim: Node adds no quotes, so the program name (argv0) is quoted here.
      ...(opts.windowsVerbatim ? { windowsVerbatimArguments: true, argv0: `"${cmd}"` } : {}),
    });
    const out = new Tail(RUN_CAPTURE);
    const err = new Tail(RUN_CAPTURE);
    // Copy through so the runner captures subprocess output as part of the hook's output.
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out.push(s);
      process.stdout.write(s);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      err.push(s);
      process.stderr.write(s);
    });
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 2000).unref();
          }, opts.timeoutMs);
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stderr = err.toString();
      const tail = stderr.trim().slice(-STDERR_TAIL);
      if (timedOut) return reject(new Error(`${cmd} timed out after ${opts.timeoutMs} ms`));
      if (code === null) return reject(new Error(`${cmd} was killed by ${signal}${tail ? `: ${tail}` : ''}`));
      if (!opts.anyExitCode && !accept.includes(code)) {
        const e = new Error(`${cmd} exited with code ${code}${tail ? `: ${tail}` : ''}`) as Error & { exitCode?: number };
        e.exitCode = code;
        return reject(e);
      }
      resolve({ code, stdout: out.toString(), stderr });
    });
  });
}

export function createHelpers(ctx: HookContext): Helpers {
  const persistent = ctx.persistent;
  const targetPath = (rel: string): string => confine(ctx.targetRoot, rel, 'targetPath');
  const inPackage = (rel: string, what: string): string => confine(ctx.packageDir, rel, what);
  const defaultCwd = (): string => (existsSync(ctx.packageDir) ? ctx.packageDir : ctx.targetRoot);
  const run = (cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> => runCommand(cmd, args, { ...opts, cwd: opts.cwd ?? defaultCwd() });

  // System package managers ignore targetRoot: refuse rather than touch the real system in user mode.
  const systemWide = (what: string): void => {
    const root = path.resolve(ctx.targetRoot);
    if (root !== path.parse(root).root) {
      throw new Error(`${what} installs system-wide and cannot honour targetRoot ${root} (user mode)`);
    }
  };
  const firstTool = (what: string, tools: string[]): [string, string] => {
    for (const t of tools) {
      const found = which(t);
      if (found) return [t, found];
    }
    throw new Error(`${what}: none of ${tools.join(', ')} is available on this system`);
  };
  const aptEnv = { DEBIAN_FRONTEND: 'noninteractive' };
  const windows = createWindowsHelpers(ctx, {
    run: (cmd, args, o = {}) => runCommand(cmd, args, { cwd: defaultCwd(), timeoutMs: o.timeoutMs, windowsVerbatim: o.verbatim, anyExitCode: true }),
    log: (msg) => void process.stdout.write(`${msg}\n`),
  });

  return {
    ...windows,
    ctx,
    log: (msg) => void process.stdout.write(`${msg}\n`),
    warn: (msg) => void process.stderr.write(`warning: ${msg}\n`),
    run,
    targetPath,
    download: (url, nameInPackage, opts) => downloadInto(ctx.packageDir, url, nameInPackage, opts),
    async copyTree(fromInPackage, toUnderTarget) {
      const src = inPackage(fromInPackage, 'copyTree');
      const dst = targetPath(toUnderTarget);
      const written: string[] = [];
      await copyEntry(src, dst, ctx.targetRoot, written);
      return written;
    },
    async removeTree(underTarget) {
      const full = targetPath(underTarget);
      if (full === path.resolve(ctx.targetRoot)) throw new Error('removeTree: refusing to remove the target root itself');
      await rm(full, { recursive: true, force: true });
    },
    async installDeb(pathInPackage) {
      const deb = inPackage(pathInPackage, 'installDeb');
      systemWide('installDeb');
      const [tool, exe] = firstTool('installDeb', ['apt-get', 'dpkg']);
      if (tool === 'apt-get') await run(exe, ['install', '-y', '--no-install-recommends', deb], { env: aptEnv });
      else await run(exe, ['-i', deb]);
    },
    async removeDeb(name) {
      systemWide('removeDeb');
      const [tool, exe] = firstTool('removeDeb', ['apt-get', 'dpkg']);
      await run(exe, tool === 'apt-get' ? ['remove', '-y', name] : ['-r', name], { env: aptEnv });
    },
    async installRpm(pathInPackage) {
      const rpmFile = inPackage(pathInPackage, 'installRpm');
      systemWide('installRpm');
      const [tool, exe] = firstTool('installRpm', ['dnf', 'yum', 'rpm']);
      await run(exe, tool === 'rpm' ? ['-U', rpmFile] : ['install', '-y', rpmFile]);
    },
    async removeRpm(name) {
      systemWide('removeRpm');
      const [tool, exe] = firstTool('removeRpm', ['dnf', 'yum', 'rpm']);
      await run(exe, tool === 'rpm' ? ['-e', name] : ['remove', '-y', name]);
    },
    remember(key, value) {
      if (value !== null && JSON.stringify(value) === undefined) throw new Error(`remember(${key}): value is not JSON-serialisable`);
      persistent[key] = value;
    },
    param<T>(name: string, fallback?: T): T {
      const v = ctx.params[name];
      if (v !== undefined) return v as T;
      if (fallback !== undefined) return fallback;
      throw new Error(`missing install parameter "${name}"`);
    },
  };
}

async function copyEntry(src: string, dst: string, root: string, written: string[]): Promise<void> {
  const st = await lstat(src);
  if (st.isSymbolicLink()) throw new Error(`copyTree: refusing symbolic link ${src}`);
  if (st.isDirectory()) {
    await mkdir(dst, { recursive: true });
    for (const name of (await readdir(src)).sort()) await copyEntry(path.join(src, name), path.join(dst, name), root, written);
    return;
  }
  if (!st.isFile()) throw new Error(`copyTree: not a regular file: ${src}`);
  await mkdir(path.dirname(dst), { recursive: true });
  // Temp then rename: a reader never sees a half-written file, a crash leaves the old one.
  const tmp = `${dst}.wapt-tmp-${process.pid}`;
  try {
    // copyFile is the kernel's copy_file_range (no user-space buffers); FICLONE
    // first makes it a reflink where the filesystem can (btrfs, XFS), else a copy.
    await copyFile(src, tmp, constants.COPYFILE_FICLONE);
    await rename(tmp, dst);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  written.push(relPosix(root, dst));
}
