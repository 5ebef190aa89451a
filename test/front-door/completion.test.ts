// Issue 11 §6: `wapt-get completion bash|zsh|fish|powershell`, built from the verbs'
// declarations. The bash script is run in a real bash and asked to complete.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commandEntries } from '../../src/cli/commands/index.js';
import { runCli } from '../helpers/cli.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wapt-completion-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function script(shell: string): Promise<string> {
  const r = await runCli(['completion', shell]);
  expect(r.code).toBe(0);
  return r.stdout;
}

/** Runs the bash completion function for a command line the way readline would. */
function bashComplete(file: string, words: string[]): string[] {
  const program = `source ${JSON.stringify(file)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _wapt_get; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('completion', () => {
  it("bash: completes verbs, a verb's own options and global options in a real bash", async () => {
    const file = path.join(tmp, 'wapt-get.bash');
    writeFileSync(file, await script('bash'));
    expect(bashComplete(file, ['wapt-get', 'ins'])).toEqual(['install']);
    expect(bashComplete(file, ['wapt-get', '-c', 'x.ini', 'install', '--dr'])).toEqual(['--dry-run']);
    expect(bashComplete(file, ['wapt-get', 'sign', '--out'])).toEqual(['--out-dir']);
    expect(bashComplete(file, ['wapt-get', '--js'])).toEqual(['--json']);
  });

  it.each(['zsh', 'fish', 'powershell'])('%s: names every verb', async (shell) => {
    const text = await script(shell);
    for (const e of commandEntries) expect(text).toContain(e.name);
  });

  it('an unknown shell is a usage error', async () => {
    const r = await runCli(['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('wapt-get: error [USAGE] completion tcsh: choose bash, zsh, fish or powershell');
  });
});
