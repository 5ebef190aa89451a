// Issue 11 §6: colour is decided per stream. Under a real pseudo-terminal (script(1)),
// `verify … > file` writes no escape codes into the file while stdout on the terminal is
// coloured; TERM=dumb and NO_COLOR turn it off.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupPki, getTestPki, signerOf, type TestPki } from '../helpers/pki.js';
import { buildFromSpec } from '../helpers/packages.js';

const BIN = fileURLToPath(new URL('../../bin/wapt-get', import.meta.url));
const ESC = '\x1b[';
let tmp: string;
let pki: TestPki;
let pkg: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wapt-colour-'));
  pki = await getTestPki();
  pkg = (await buildFromSpec({ control: { package: 'tis-colour', version: '1.0-1' }, files: {} }, signerOf(pki.codesigner), { outDir: tmp })).path;
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  if (pki) cleanupPki(pki);
});

/** Runs a shell line under a pseudo-terminal; returns what reached the terminal. */
function onTerminal(line: string, env: Record<string, string> = {}): string {
  const e: NodeJS.ProcessEnv = { ...process.env };
  delete e.NO_COLOR;
  delete e.FORCE_COLOR;
  delete e.NODE_OPTIONS;
  Object.assign(e, { TERM: 'xterm', WAPT_GET_CONFIG: path.join(tmp, 'none.ini') }, env);
  return execFileSync('script', ['-qec', line, '/dev/null'], { env: e, encoding: 'utf8', cwd: tmp });
}

const verify = () => `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} verify --trusted ${JSON.stringify(pki.trustedDir)} ${JSON.stringify(pkg)}`;

test('stdout on the terminal is coloured', () => {
  expect(onTerminal(verify())).toContain(`${ESC}32mOK`);
});

test('show/verify > file from a terminal writes no escape codes into the file', () => {
  const file = path.join(tmp, 'out.txt');
  onTerminal(`${verify()} > ${JSON.stringify(file)}`);
  const text = readFileSync(file, 'utf8');
  expect(text).toMatch(/^OK {3}.*tis-colour 1\.0-1/);
  expect(text).not.toContain('\x1b');
});

test('TERM=dumb and NO_COLOR turn colour off on the terminal too', () => {
  expect(onTerminal(verify(), { TERM: 'dumb' })).not.toContain(ESC);
  expect(onTerminal(verify(), { NO_COLOR: '1' })).not.toContain(ESC);
});
